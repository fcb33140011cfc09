package dev.berth.registry.store;

import dev.berth.storage.StorageDriver;

/** The parts of the store that the HTTP layer uses, built over one driver, pool and cache set. */
public record RegistryStore(BlobStore blobs, UploadStore uploads, ManifestStore manifests, TagStore tags,
                            Catalog catalog) {

    public static RegistryStore create(StorageDriver driver, WorkerPool pool, RegistryCaches caches) {
        return create(driver, pool, caches, false);
    }

    /** @param shared whether other processes write to the same storage (replicas on one bucket) */
    public static RegistryStore create(StorageDriver driver, WorkerPool pool, RegistryCaches caches, boolean shared) {
        RepositoryLocks locks = new RepositoryLocks();
        BlobStore blobs = new BlobStore(driver, pool, caches, locks, new RepositoryLocks(), shared);
        TagStore tags = new TagStore(driver, pool, caches, locks);
        return new RegistryStore(blobs, new UploadStore(driver, pool, blobs, shared),
                new ManifestStore(driver, pool, caches, blobs, tags, locks), tags, new Catalog(driver, pool));
    }
}
