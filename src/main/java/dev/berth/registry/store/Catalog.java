package dev.berth.registry.store;

import dev.berth.registry.RepositoryName;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.WalkAction;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/** The list of repositories: every repository that holds at least one manifest revision or tag. */
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
                        StorageLayout.repositoryOf(entry.key()).ifPresent(r -> names.add(r.value()));
                    }
                    return WalkAction.SKIP_DIRECTORY;
                });
            } catch (PathNotFoundException e) {
                return new Page<>(List.of(), false);
            }
            List<RepositoryName> page = new ArrayList<>();
            boolean more = false;
            for (String name : last.isPresent() ? names.tailSet(last.get(), false) : names) {
                if (page.size() == n) {
                    more = true;
                    break;
                }
                page.add(RepositoryName.of(name));
            }
            return new Page<>(page, more);
        });
    }
}
