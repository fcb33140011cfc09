package dev.berth.registry.store;

import dev.berth.storage.StorageDriver;

/** The parts of the store that the HTTP layer uses, built over one driver, pool and cache set. */
public record RegistryStore(BlobStore blobs, UploadStore uploads, ManifestStore manifests, TagStore tags,
                            Catalog catalog) {

    public static RegistryStore create(StorageDriver driver, WorkerPool pool, RegistryCaches caches) {
        RepositoryLocks locks = new RepositoryLocks();
        BlobStore blobs = new BlobStore(driver, pool, caches, locks);
        TagStore tags = new TagStore(driver, pool, caches, locks);
        return new RegistryStore(blobs, new UploadStore(driver, pool, blobs),
                new ManifestStore(driver, pool, caches, blobs, tags, locks), tags, new Catalog(driver, pool));
    }
}
