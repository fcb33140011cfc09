/**
 * Registry semantics over a {@link dev.berth.storage.StorageDriver}: content-addressed blobs and
 * which repositories may serve them, upload sessions, manifests kept byte-exact, tags, the
 * referrers index and the catalog. {@link dev.berth.registry.store.StorageLayout} is the one
 * drawing of the storage tree; every key comes from it.
 *
 * <p>Methods that touch storage return Vert.x futures and run driver calls on a
 * {@link dev.berth.registry.store.WorkerPool}; lookups answered by the in-memory caches complete at
 * once, on the caller's thread. This package knows nothing about HTTP.
 */
package dev.berth.registry.store;
