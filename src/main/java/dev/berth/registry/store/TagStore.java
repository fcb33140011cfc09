package dev.berth.registry.store;

import static dev.berth.registry.store.RegistryCaches.readThrough;

import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.RegistryCaches.RepoTag;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Tags: which manifest each one points at now (and every one it pointed at, in its index). */
public final class TagStore {
    private final StorageDriver driver;
    private final WorkerPool pool;
    private final RegistryCaches caches;
    private final RepositoryLocks locks;

    TagStore(StorageDriver driver, WorkerPool pool, RegistryCaches caches, RepositoryLocks locks) {
        this.driver = driver;
        this.pool = pool;
        this.caches = caches;
        this.locks = locks;
    }

    /** The digest {@code tag} points at, if the tag exists. */
    public Future<Optional<Digest>> resolve(RepositoryName repo, Tag tag) {
        Digest cached = caches.tags.getIfPresent(new RepoTag(repo, tag));
        if (cached != null) {
            return Future.succeededFuture(Optional.of(cached));
        }
        return pool.call(() -> resolveBlocking(repo, tag));
    }

    Optional<Digest> resolveBlocking(RepositoryName repo, Tag tag) throws IOException {
        return readThrough(caches.tags, new RepoTag(repo, tag),
                k -> LinkFiles.read(driver, StorageLayout.tagCurrentLink(repo, tag)));
    }

    /** Blocking, under the repository's lock: points {@code tag} at {@code digest}. */
    void tag(RepositoryName repo, Tag tag, Digest digest) throws IOException {
        LinkFiles.write(driver, StorageLayout.tagIndexLink(repo, tag, digest), digest);
        LinkFiles.write(driver, StorageLayout.tagCurrentLink(repo, tag), digest);
        caches.tags.invalidate(new RepoTag(repo, tag));
    }

    /**
     * Removes {@code tag}; false when it did not exist. The manifest stays. {@code deleting} runs
     * (under the lock) before the tag goes.
     */
    public Future<Boolean> untag(RepositoryName repo, Tag tag, ChangeHook<Tag> deleting) {
        return pool.call(() -> locks.withLock(repo, () -> {
            if (resolveBlocking(repo, tag).isEmpty()) {
                return false;
            }
            deleting.accept(tag);
            return untagBlocking(repo, tag);
        }));
    }

    /** Blocking, under the repository's lock. */
    boolean untagBlocking(RepositoryName repo, Tag tag) throws IOException {
        try {
            driver.stat(StorageLayout.tagCurrentLink(repo, tag));
            driver.delete(StorageLayout.tag(repo, tag));
            return true;
        } catch (PathNotFoundException e) {
            return false;
        } finally {
            caches.tags.invalidate(new RepoTag(repo, tag));
        }
    }

    /**
     * Up to {@code n} tags after {@code last} in lexical order; empty when the repository does not
     * exist (an existing repository without tags gives an empty page).
     */
    public Future<Optional<Page<Tag>>> list(RepositoryName repo, int n, Optional<String> last) {
        return pool.call(() -> {
            try {
                return Optional.of(Page.after(allBlocking(repo), n, last, Tag::value));
            } catch (PathNotFoundException e) {
                return Optional.empty();
            }
        });
    }

    /** Blocking: every tag of the repository, sorted; {@link PathNotFoundException} for an unknown repository. */
    List<Tag> allBlocking(RepositoryName repo) throws IOException {
        driver.stat(StorageLayout.repository(repo));
        List<String> dirs;
        try {
            dirs = driver.list(StorageLayout.tags(repo));
        } catch (PathNotFoundException e) {
            return List.of();
        }
        List<Tag> tags = new ArrayList<>(dirs.size());
        for (String dir : dirs) {
            String name = dir.substring(dir.lastIndexOf('/') + 1);
            if (Tag.isValid(name)) {
                Tag tag = Tag.of(name);
                // A tag directory without a current link is a tag being deleted or a torn creation.
                if (resolveBlocking(repo, tag).isPresent()) {
                    tags.add(tag);
                }
            }
        }
        tags.sort(null);
        return tags;
    }

    /** Blocking: the tags currently pointing at {@code digest}. */
    List<Tag> pointingTo(RepositoryName repo, Digest digest) throws IOException {
        List<Tag> all;
        try {
            all = allBlocking(repo);
        } catch (PathNotFoundException e) {
            return List.of();
        }
        List<Tag> result = new ArrayList<>();
        for (Tag tag : all) {
            if (resolveBlocking(repo, tag).filter(digest::equals).isPresent()) {
                result.add(tag);
            }
        }
        return result;
    }
}
