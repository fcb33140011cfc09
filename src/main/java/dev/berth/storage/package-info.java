/**
 * Bytes at keys. {@link dev.berth.storage.StorageDriver} is the small interface every backend
 * implements ({@code filesystem}, {@code inmemory}, later {@code s3}); all backends pass one
 * contract test suite. {@link dev.berth.storage.ValidatingStorageDriver} holds the cross-cutting
 * checks (key grammar, driver name on errors, slow-call logging) so drivers don't repeat them.
 *
 * <p>This package knows nothing about registries: no digests, repositories or manifests. Driver
 * methods block; callers run them on a worker pool, never on an event loop.
 */
package dev.berth.storage;
