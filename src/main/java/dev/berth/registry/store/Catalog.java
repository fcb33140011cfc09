package dev.berth.registry.store;

import dev.berth.registry.RepositoryName;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.WalkAction;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The list of repositories: every repository that holds at least one manifest. (Empty directories
 * left behind by deletes do not count.) It walks the store, so it costs in proportion to the number
 * of repositories.
 */
public final class Catalog {
    private final StorageDriver driver;
    private final WorkerPool pool;

    public Catalog(StorageDriver driver, WorkerPool pool) {
        this.driver = driver;
        this.pool = pool;
    }

    /** Up to {@code n} repository names after {@code last}, in lexical order. */
    public Future<Page<RepositoryName>> list(int n, Optional<String> last) {
        return pool.call(() -> {
            TreeSet<String> names = new TreeSet<>();
            try {
                driver.walk(StorageLayout.REPOSITORIES, entry -> {
                    if (!entry.isDirectory()) {
                        return WalkAction.CONTINUE;
                    }
                    String name = entry.key().substring(entry.key().lastIndexOf('/') + 1);
                    if (!name.startsWith("_")) {
                        return WalkAction.CONTINUE;
                    }
                    if (name.equals(StorageLayout.MANIFESTS_DIR)) {
                        Optional<RepositoryName> repo = StorageLayout.repositoryOf(entry.key());
                        if (repo.isPresent() && hasRevision(repo.get())) {
                            names.add(repo.get().value());
                        }
                    }
                    return WalkAction.SKIP_DIRECTORY;
                });
            } catch (PathNotFoundException e) {
                return new Page<>(List.of(), false);
            }
            return Page.after(names.stream().map(RepositoryName::of).toList(), n, last, RepositoryName::value);
        });
    }

    /** Blocking: whether any manifest revision link exists in the repository. */
    private boolean hasRevision(RepositoryName repo) throws java.io.IOException {
        boolean[] found = {false};
        try {
            driver.walk(StorageLayout.revisions(repo), e -> {
                if (!e.isDirectory()) {
                    found[0] = true;
                    return WalkAction.STOP;
                }
                return WalkAction.CONTINUE;
            });
        } catch (PathNotFoundException e) {
            return false;
        }
        return found[0];
    }
}
