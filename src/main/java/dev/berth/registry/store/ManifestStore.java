package dev.berth.registry.store;

import static dev.berth.registry.store.RegistryCaches.readThrough;

import dev.berth.digest.Digest;
import dev.berth.digest.DigestAlgorithm;
import dev.berth.manifest.Descriptor;
import dev.berth.manifest.Manifest;
import dev.berth.manifest.ManifestInvalidException;
import dev.berth.manifest.ManifestParser;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.RegistryCaches.RepoDigest;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Manifests and indexes, stored byte-exact in the blob store and linked into repositories as
 * revisions; tags and referrer links are updated with them.
 */
public final class ManifestStore {
    private final StorageDriver driver;
    private final WorkerPool pool;
    private final RegistryCaches caches;
    private final BlobStore blobs;
    private final TagStore tags;
    private final RepositoryLocks locks;

    ManifestStore(StorageDriver driver, WorkerPool pool, RegistryCaches caches, BlobStore blobs, TagStore tags,
                  RepositoryLocks locks) {
        this.driver = driver;
        this.pool = pool;
        this.caches = caches;
        this.blobs = blobs;
        this.tags = tags;
        this.locks = locks;
    }

    /** The manifest {@code ref} names in {@code repo}, if any. Served from memory when cached. */
    public Future<Optional<StoredManifest>> get(RepositoryName repo, Reference ref) {
        if (ref instanceof Reference.ByTag byTag) {
            return tags.resolve(repo, byTag.tag()).compose(d -> d.isEmpty()
                    ? Future.succeededFuture(Optional.empty())
                    : get(repo, d.get()));
        }
        return get(repo, ((Reference.ByDigest) ref).digest());
    }

    private Future<Optional<StoredManifest>> get(RepositoryName repo, Digest digest) {
        if (caches.revisions.getIfPresent(new RepoDigest(repo, digest)) != null) {
            StoredManifest m = caches.manifests.getIfPresent(digest);
            if (m != null) {
                return Future.succeededFuture(Optional.of(m));
            }
        }
        return pool.call(() -> getBlocking(repo, digest));
    }

    Optional<StoredManifest> getBlocking(RepositoryName repo, Digest digest) throws IOException {
        if (!hasRevision(repo, digest)) {
            return Optional.empty();
        }
        return load(digest);
    }

    /** Blocking: whether {@code repo} holds manifest {@code digest}. */
    boolean hasRevision(RepositoryName repo, Digest digest) throws IOException {
        return readThrough(caches.revisions, new RepoDigest(repo, digest),
                k -> LinkFiles.read(driver, StorageLayout.revisionLink(repo, digest)) == null ? null : Boolean.TRUE)
                .isPresent();
    }

    /** Blocking: a manifest's bytes and parse by digest, whatever repository holds it. */
    Optional<StoredManifest> load(Digest digest) throws IOException {
        return readThrough(caches.manifests, digest, d -> {
            byte[] bytes;
            try {
                bytes = blobs.read(d);
            } catch (PathNotFoundException e) {
                return null;
            }
            try {
                return new StoredManifest(d, bytes, ManifestParser.parse(bytes, null));
            } catch (ManifestInvalidException e) {
                throw new IOException("stored manifest " + d + " no longer parses: " + e.getMessage(), e);
            }
        });
    }

    /**
     * Validates and stores a manifest pushed to {@code ref}, then points {@code ref} (when a tag) and
     * {@code extraTags} at it. Fails with {@link ManifestInvalidException}, {@link DigestMismatchException}
     * (the bytes do not hash to a digest reference) or {@link ManifestBlobUnknownException}.
     */
    public Future<PutManifestResult> put(RepositoryName repo, Reference ref, List<Tag> extraTags,
                                         byte[] bytes, String contentType, ChangeHook<PutManifestResult> pushed) {
        return pool.call(() -> {
            Manifest manifest = ManifestParser.parse(bytes, contentType);
            Digest digest;
            LinkedHashSet<Tag> toTag = new LinkedHashSet<>();
            if (ref instanceof Reference.ByDigest byDigest) {
                Digest expected = byDigest.digest();
                digest = Digest.of(expected.algorithm(), bytes);
                if (!digest.equals(expected)) {
                    throw new DigestMismatchException(expected, digest);
                }
            } else {
                digest = Digest.of(DigestAlgorithm.SHA256, bytes);
                toTag.add(((Reference.ByTag) ref).tag());
            }
            toTag.addAll(extraTags);
            // A manifest whose references are missing stores nothing. The content (addressed by its
            // digest, invisible until linked) is written outside the repository's lock to keep that
            // lock short; the authoritative check and the links are one step under it, so a concurrent
            // delete of a referenced blob, of this manifest or of a tag cannot slip in between. The
            // content lock spans writing the bytes and linking them (see BlobStore.deleteIfUnlinked).
            checkReferences(repo, manifest);
            return blobs.withContentLock(digest, () -> {
                if (blobs.size(digest).isEmpty()) {
                    blobs.put(digest, bytes);
                }
                return locks.withLock(repo, () -> {
                    checkReferences(repo, manifest);
                    link(repo, digest, manifest, toTag);
                    PutManifestResult result = new PutManifestResult(digest, List.copyOf(toTag),
                            manifest.subject() == null ? null : manifest.subject().digest(), manifest, bytes.length);
                    pushed.accept(result);
                    return result;
                });
            });
        });
    }

    /**
     * Stores a manifest fetched from an upstream registry into {@code repo} (a mirror's cache),
     * byte-exact, and points {@code tag} at it when given. Unlike a push, the blobs and child
     * manifests it references need not be here yet: the mirror fetches them when they are asked for.
     * It is kept under {@code expected} (hashed with that algorithm) and fails with
     * {@link DigestMismatchException} when the bytes do not hash to it; without one, under its SHA-256.
     * Fails with {@link ManifestInvalidException} when the bytes are not a manifest.
     */
    public Future<Digest> cacheUpstream(RepositoryName repo, byte[] bytes, String contentType, Optional<Tag> tag,
                                        Optional<Digest> expected) {
        return pool.call(() -> {
            Manifest manifest = ManifestParser.parse(bytes, contentType);
            Digest digest = Digest.of(expected.map(Digest::algorithm).orElse(DigestAlgorithm.SHA256), bytes);
            if (expected.isPresent() && !expected.get().equals(digest)) {
                throw new DigestMismatchException(expected.get(), digest);
            }
            return blobs.withContentLock(digest, () -> {
                if (blobs.size(digest).isEmpty()) {
                    blobs.put(digest, bytes);
                }
                return locks.withLock(repo, () -> {
                    link(repo, digest, manifest, tag.stream().toList());
                    return digest;
                });
            });
        });
    }

    /**
     * Blocking, under the repository's lock: makes stored manifest {@code digest} part of {@code repo},
     * indexes it under its subject, and points {@code toTag} at it.
     */
    private void link(RepositoryName repo, Digest digest, Manifest manifest, Collection<Tag> toTag) throws IOException {
        LinkFiles.write(driver, StorageLayout.revisionLink(repo, digest), digest);
        caches.revisions.invalidate(new RepoDigest(repo, digest));
        if (manifest.subject() != null) {
            LinkFiles.write(driver, StorageLayout.referrerLink(repo, manifest.subject().digest(), digest), digest);
        }
        for (Tag tag : toTag) {
            tags.tag(repo, tag, digest);
        }
    }

    /**
     * Points {@code tag} of {@code repo} at {@code digest} when the repository still holds that
     * manifest (a mirror's revalidation); false, and the tag untouched, when it does not (evicted
     * meanwhile).
     */
    public Future<Boolean> retag(RepositoryName repo, Tag tag, Digest digest) {
        return pool.call(() -> locks.withLock(repo, () -> {
            if (!hasRevision(repo, digest)) {
                return false;
            }
            tags.tag(repo, tag, digest);
            return true;
        }));
    }

    private void checkReferences(RepositoryName repo, Manifest manifest) throws IOException, ManifestInvalidException,
            ManifestBlobUnknownException {
        List<Digest> missing = new ArrayList<>();
        if (manifest.isIndex()) {
            for (Descriptor child : manifest.manifests()) {
                if (!hasRevision(repo, child.digest())) {
                    missing.add(child.digest());
                }
            }
        } else {
            List<Descriptor> blobsToCheck = new ArrayList<>();
            blobsToCheck.add(manifest.config());
            blobsToCheck.addAll(manifest.layers());
            for (Descriptor d : blobsToCheck) {
                if (!d.isDistributable()) {
                    continue;
                }
                Optional<BlobInfo> blob = blobs.statLinked(repo, d.digest());
                if (blob.isEmpty()) {
                    missing.add(d.digest());
                } else if (blob.get().size() != d.size()) {
                    throw new ManifestInvalidException("size of " + d.digest() + " is " + blob.get().size()
                            + ", the manifest says " + d.size());
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ManifestBlobUnknownException(missing);
        }
    }

    /**
     * Deletes manifest {@code digest} from {@code repo} with every tag pointing at it and its
     * referrer link; false when the repository did not hold it. The bytes stay for GC.
     * {@code deleting} runs (under the lock) before anything is removed.
     */
    public Future<Boolean> delete(RepositoryName repo, Digest digest, ChangeHook<DeletedManifest> deleting) {
        return pool.call(() -> locks.withLock(repo, () -> {
            if (!hasRevision(repo, digest)) {
                return false;
            }
            Optional<StoredManifest> stored = load(digest);
            List<Tag> pointing = tags.pointingTo(repo, digest);
            deleting.accept(new DeletedManifest(digest, pointing));
            for (Tag tag : pointing) {
                tags.untagBlocking(repo, tag);
            }
            try {
                driver.delete(StorageLayout.revision(repo, digest));
            } catch (PathNotFoundException e) {
                // deleted concurrently
            } finally {
                caches.revisions.invalidate(new RepoDigest(repo, digest));
            }
            Descriptor subject = stored.map(m -> m.manifest().subject()).orElse(null);
            if (subject != null) {
                try {
                    driver.delete(StorageLayout.referrer(repo, subject.digest(), digest));
                } catch (PathNotFoundException e) {
                    // already gone
                }
            }
            return true;
        }));
    }

    /**
     * The manifests in {@code repo} whose subject is {@code subject}, optionally only those of one
     * artifact type, in digest order. An unknown repository or subject gives an empty list.
     */
    public Future<List<Referrer>> referrers(RepositoryName repo, Digest subject, Optional<String> artifactType) {
        return pool.call(() -> {
            List<Referrer> result = new ArrayList<>();
            List<String> algorithmDirs;
            try {
                algorithmDirs = driver.list(StorageLayout.referrers(repo, subject));
            } catch (PathNotFoundException e) {
                return result;
            }
            for (String algDir : algorithmDirs) {
                List<String> entries;
                try {
                    entries = driver.list(algDir);
                } catch (PathNotFoundException e) {
                    continue;
                }
                String algorithm = lastSegment(algDir);
                for (String entry : entries) {
                    String text = algorithm + ":" + lastSegment(entry);
                    if (!Digest.isDigest(text)) {
                        continue;
                    }
                    Digest referrer = Digest.parse(text);
                    if (LinkFiles.read(driver, StorageLayout.referrerLink(repo, subject, referrer)) == null
                            || !hasRevision(repo, referrer)) {
                        continue;
                    }
                    Optional<StoredManifest> m = load(referrer);
                    if (m.isEmpty()) {
                        continue;
                    }
                    Manifest manifest = m.get().manifest();
                    String type = manifest.effectiveArtifactType();
                    if (artifactType.isPresent() && !artifactType.get().equals(type)) {
                        continue;
                    }
                    result.add(new Referrer(manifest.mediaType(), referrer, m.get().bytes().length, type,
                            manifest.annotations()));
                }
            }
            result.sort((a, b) -> a.digest().compareTo(b.digest()));
            return result;
        });
    }

    private static String lastSegment(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }
}
