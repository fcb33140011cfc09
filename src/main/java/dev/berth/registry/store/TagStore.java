package dev.berth.registry.store;

import static dev.berth.registry.store.RegistryCaches.readThrough;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.RegistryCaches.RepoTag;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Tags: which manifest each one points at now (and every one it pointed at, in its index). */
public final class TagStore {
    private final StorageDriver driver;
    private final WorkerPool pool;
    private final RegistryCaches caches;

    public TagStore(StorageDriver driver, WorkerPool pool, RegistryCaches caches) {
        this.driver = driver;
        this.pool = pool;
        this.caches = caches;
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
        return readThrough(caches.tags, new RepoTag(repo, tag), k -> readLink(driver, StorageLayout.tagCurrentLink(repo, tag)));
    }

    /** Blocking: reads a link file; null when absent or unreadable (a torn write cannot happen, links are atomic). */
    static Digest readLink(StorageDriver driver, String key) throws IOException {
        try {
            return Digest.parse(new String(driver.getContent(key), StandardCharsets.UTF_8).trim());
        } catch (PathNotFoundException e) {
            return null;
        } catch (InvalidDigestException e) {
            throw new IOException("corrupt link " + key + ": " + e.getMessage(), e);
        }
    }

    /** Blocking: points {@code tag} at {@code digest}. */
    void tag(RepositoryName repo, Tag tag, Digest digest) throws IOException {
        byte[] link = digest.toString().getBytes(StandardCharsets.UTF_8);
        driver.putContent(StorageLayout.tagIndexLink(repo, tag, digest), link);
        driver.putContent(StorageLayout.tagCurrentLink(repo, tag), link);
        caches.tags.invalidate(new RepoTag(repo, tag));
    }

    /** Removes {@code tag}; false when it did not exist. The manifest stays. */
    public Future<Boolean> untag(RepositoryName repo, Tag tag) {
        return pool.call(() -> untagBlocking(repo, tag));
    }

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
            List<Tag> all;
            try {
                all = allBlocking(repo);
            } catch (PathNotFoundException e) {
                return Optional.empty();
            }
            List<Tag> page = new ArrayList<>();
            boolean more = false;
            for (Tag t : all) {
                if (last.isPresent() && t.value().compareTo(last.get()) <= 0) {
                    continue;
                }
                if (page.size() == n) {
                    more = true;
                    break;
                }
                page.add(t);
            }
            return Optional.of(new Page<>(page, more));
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
