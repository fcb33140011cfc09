package dev.berth.mirror;

import dev.berth.config.BerthConfig.MirrorCacheConfig;
import dev.berth.db.Database;
import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.ChangeHook;
import dev.berth.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the mirror holds, and its eviction. Every item fetched into a cache repository (a manifest or
 * a blob) gets a row with its size; pulls of cached items (from the registry's pull events) move its
 * last-pulled time, batched in memory and written every few seconds. An eviction pass removes items
 * not pulled within {@code ttl}, then, while the cache holds more than {@code maxSize}, the least
 * recently pulled: the item leaves its cache repository, and its bytes are deleted when no other
 * repository links them (a local repository that mounted a cached layer keeps it). On shared
 * storage (replicas on one bucket) only the links go: another process could link the bytes between
 * the check and the delete.
 *
 * <p>Sizes count each cache repository's items: a layer two mirrored images share counts twice, so
 * the cap errs on the side of evicting early.
 */
public final class MirrorCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorCache.class);
    /** How often pending last-pulled times are written. */
    private static final long FLUSH_MILLIS = 5_000;

    /** What a cached item is. */
    public enum Kind {
        MANIFEST, BLOB;

        String column() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** An item chosen for eviction; {@code cachedAt} tells its row from one a later fetch wrote. */
    private record Item(RepositoryName repository, Digest digest, String upstream, Kind kind, long size, long cachedAt) {
    }

    /** What one eviction pass removed. */
    public record Eviction(int items, long bytes, int blobsDeleted) {
        static final Eviction NONE = new Eviction(0, 0, 0);
    }

    private record Key(RepositoryName repository, Digest digest) {
    }

    private static final class Totals {
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong items = new AtomicLong();
    }

    private final Vertx vertx;
    private final Database db;
    private final RegistryStore store;
    private final MirrorCacheConfig config;
    private final Clock clock;
    private final MirrorStats stats;
    private final Map<String, Totals> totals = new HashMap<>();
    /** Last-pulled times not written yet. */
    private final ConcurrentMap<Key, Long> pulls = new ConcurrentHashMap<>();
    private final AtomicBoolean evicting = new AtomicBoolean();
    private long flushTimer = -1;
    private long evictTimer = -1;
    /** The pass under way (or the last one). */
    private volatile Future<Eviction> running = Future.succeededFuture(Eviction.NONE);
    private volatile boolean closed;

    public MirrorCache(Vertx vertx, Database db, RegistryStore store, MirrorCacheConfig config,
                       Clock clock, List<String> upstreams, MirrorStats stats) throws Exception {
        this.vertx = vertx;
        this.db = db;
        this.store = store;
        this.config = config;
        this.clock = clock;
        this.stats = stats;
        for (String u : upstreams) {
            totals.put(u, new Totals());
        }
        db.transactionBlocking(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT upstream, SUM(size), COUNT(*) FROM mirror_item GROUP BY upstream");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    Totals t = totals.get(rs.getString(1));
                    if (t != null) { // an upstream no longer configured: its items stay until evicted by hand
                        t.bytes.set(rs.getLong(2));
                        t.items.set(rs.getLong(3));
                    }
                }
            }
            return null;
        });
    }

    /** Starts writing pull times and evicting on a timer. */
    public void start() {
        flushTimer = vertx.setPeriodic(FLUSH_MILLIS, id -> {
            // During a pass, pulls stay in memory: that is how the pass knows what was pulled since it began.
            if (!evicting.get()) {
                flush().onFailure(e -> LOG.atWarn().setCause(e).log("cannot record mirror pull times"));
            }
        });
        evictTimer = vertx.setPeriodic(config.evictInterval().toMillis(), id -> evict().onFailure(e ->
                LOG.atWarn().setCause(e).log("mirror eviction failed")));
    }

    public MirrorCacheConfig config() {
        return config;
    }

    /** The bytes the cache holds for {@code upstream}. */
    public long size(String upstream) {
        Totals t = totals.get(upstream);
        return t == null ? 0 : t.bytes.get();
    }

    /** The items (manifests and blobs) the cache holds for {@code upstream}. */
    public long items(String upstream) {
        Totals t = totals.get(upstream);
        return t == null ? 0 : t.items.get();
    }

    /** Records an item just fetched into {@code repository} (pulled now). */
    public Future<Void> cached(String upstream, RepositoryName repository, Digest digest, Kind kind, long size) {
        long now = clock.millis();
        return db.transaction(c -> {
            long previous = -1;
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT size FROM mirror_item WHERE repository = ? AND digest = ?")) {
                p.setString(1, repository.value());
                p.setString(2, digest.toString());
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        previous = rs.getLong(1);
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("""
                    INSERT INTO mirror_item (repository, digest, upstream, kind, size, cached_at, last_pulled)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (repository, digest) DO UPDATE SET upstream = excluded.upstream, kind = excluded.kind,
                      size = excluded.size, cached_at = excluded.cached_at, last_pulled = excluded.last_pulled""")) {
                p.setString(1, repository.value());
                p.setString(2, digest.toString());
                p.setString(3, upstream);
                p.setString(4, kind.column());
                p.setLong(5, size);
                p.setLong(6, now);
                p.setLong(7, now);
                p.executeUpdate();
            }
            return previous;
        }).map(previous -> {
            Totals t = totals.get(upstream);
            if (t != null) {
                t.bytes.addAndGet(size - Math.max(0, previous));
                if (previous < 0) {
                    t.items.incrementAndGet();
                }
            }
            return null;
        });
    }

    /** A pull of {@code digest} from cache repository {@code repository} (from the pull events). */
    public void pulled(RepositoryName repository, Digest digest) {
        pulls.merge(new Key(repository, digest), clock.millis(), Math::max);
    }

    /** Writes the pending last-pulled times. */
    public Future<Void> flush() {
        if (pulls.isEmpty()) {
            return Future.succeededFuture();
        }
        Map<Key, Long> batch = new HashMap<>();
        for (Key k : List.copyOf(pulls.keySet())) {
            Long at = pulls.remove(k);
            if (at != null) {
                batch.put(k, at);
            }
        }
        return db.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "UPDATE mirror_item SET last_pulled = MAX(last_pulled, ?) WHERE repository = ? AND digest = ?")) {
                for (Map.Entry<Key, Long> e : batch.entrySet()) {
                    p.setLong(1, e.getValue());
                    p.setString(2, e.getKey().repository().value());
                    p.setString(3, e.getKey().digest().toString());
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        }).recover(e -> {
            batch.forEach((k, at) -> pulls.merge(k, at, Math::max)); // kept for the next attempt
            return Future.failedFuture(e);
        }).mapEmpty();
    }

    /**
     * One eviction pass: items not pulled within {@code ttl}, then the least recently pulled while
     * the cache is over {@code maxSize}. Items pulled since the pass began are kept. A pass already
     * running makes this one a no-op.
     */
    public Future<Eviction> evict() {
        if (!evicting.compareAndSet(false, true)) {
            return Future.succeededFuture(Eviction.NONE);
        }
        Future<Eviction> pass = flush().compose(v -> db.read(this::victims)).compose(victims -> {
            Future<Eviction> done = Future.succeededFuture(Eviction.NONE);
            for (Item item : victims) {
                // One item that cannot be evicted (an I/O error) must not stop the others: it would
                // come first again in every later pass.
                done = done.compose(sofar -> closed ? Future.succeededFuture(sofar) : evictOne(item).recover(e -> {
                    LOG.atWarn().setCause(e).addKeyValue("repository", item.repository().value())
                            .addKeyValue("digest", item.digest().toString()).log("cannot evict a mirrored item");
                    return Future.succeededFuture(null);
                }).map(outcome -> outcome == null ? sofar
                        : new Eviction(sofar.items() + 1, sofar.bytes() + item.size(),
                        sofar.blobsDeleted() + (outcome ? 1 : 0))));
            }
            return done;
        });
        running = pass;
        return pass.onSuccess(e -> {
            if (e.items() > 0) {
                LOG.atInfo().addKeyValue("items", e.items()).addKeyValue("bytes", e.bytes())
                        .addKeyValue("dataDeleted", e.blobsDeleted()).log("mirror cache evicted");
            }
        }).onComplete(x -> evicting.set(false));
    }

    /** Runs on the database's reader: what this pass evicts, in order. */
    private List<Item> victims(Connection c) throws Exception {
        List<Item> victims = new ArrayList<>();
        Set<Key> chosen = new HashSet<>();
        long freed = 0;
        long now = clock.millis();
        long ttl = config.ttl().toMillis();
        String columns = "SELECT repository, digest, upstream, kind, size, cached_at FROM mirror_item ";
        if (ttl > 0) {
            try (PreparedStatement p = c.prepareStatement(columns + "WHERE last_pulled < ? ORDER BY last_pulled, cached_at")) {
                p.setLong(1, now - ttl);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        Item item = item(rs);
                        victims.add(item);
                        chosen.add(new Key(item.repository(), item.digest()));
                        freed += item.size();
                    }
                }
            }
        }
        long cap = config.maxSize().bytes();
        if (cap > 0) {
            long total;
            try (PreparedStatement p = c.prepareStatement("SELECT COALESCE(SUM(size), 0) FROM mirror_item");
                 ResultSet rs = p.executeQuery()) {
                rs.next();
                total = rs.getLong(1);
            }
            if (total - freed > cap) {
                try (PreparedStatement p = c.prepareStatement(columns + "ORDER BY last_pulled, cached_at");
                     ResultSet rs = p.executeQuery()) {
                    while (total - freed > cap && rs.next()) {
                        Item item = item(rs);
                        if (chosen.add(new Key(item.repository(), item.digest()))) {
                            victims.add(item);
                            freed += item.size();
                        }
                    }
                }
            }
        }
        return victims;
    }

    private static Item item(ResultSet rs) throws Exception {
        return new Item(RepositoryName.of(rs.getString(1)), Digest.parse(rs.getString(2)), rs.getString(3),
                Kind.valueOf(rs.getString(4).toUpperCase(java.util.Locale.ROOT)), rs.getLong(5), rs.getLong(6));
    }

    /**
     * Evicts one item: null when it was kept (pulled meanwhile, or fetched again since it was
     * chosen), otherwise whether its bytes were deleted too.
     */
    private Future<Boolean> evictOne(Item item) {
        if (pulls.containsKey(new Key(item.repository(), item.digest()))) {
            return Future.succeededFuture(null);
        }
        Future<Boolean> unlinked = item.kind() == Kind.MANIFEST
                ? store.manifests().delete(item.repository(), item.digest(), ChangeHook.none())
                : store.blobs().unlink(item.repository(), item.digest(), ChangeHook.none());
        return unlinked
                .compose(x -> store.blobs().deleteIfUnlinked(item.digest()))
                .compose(deleted -> db.transaction(c -> {
                    // Only the row this pass chose: a fetch that brought the item back wrote a new one.
                    try (PreparedStatement p = c.prepareStatement(
                            "DELETE FROM mirror_item WHERE repository = ? AND digest = ? AND cached_at = ?")) {
                        p.setString(1, item.repository().value());
                        p.setString(2, item.digest().toString());
                        p.setLong(3, item.cachedAt());
                        return p.executeUpdate() == 1;
                    }
                }).map(removed -> {
                    if (!removed) {
                        return null;
                    }
                    Totals t = totals.get(item.upstream());
                    if (t != null) {
                        t.bytes.addAndGet(-item.size());
                        t.items.decrementAndGet();
                        stats.evicted(item.upstream(), item.size());
                    }
                    return deleted;
                }));
    }

    @Override
    public void close() {
        closed = true; // a pass under way stops after its current item
        vertx.cancelTimer(flushTimer);
        vertx.cancelTimer(evictTimer);
        try {
            running.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.atWarn().setCause(e).log("the mirror's eviction pass did not finish before shutdown");
        }
        try {
            flush().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.atWarn().setCause(e).log("cannot record the last mirror pull times");
        }
    }
}
