package dev.berth.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite database: one connection, owned by one thread, in WAL mode. All work runs on that
 * thread in submission order, so transactions never interleave and no statement needs a lock.
 *
 * <p>Durability: with {@code durable} the WAL is flushed to disk at every commit
 * ({@code synchronous=FULL}); without, a commit survives a killed process but possibly not a power
 * loss ({@code synchronous=NORMAL}). Writers that commit often should batch (see
 * {@link #transaction}); a batch costs one flush.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    private final Vertx vertx;
    private final Connection connection;
    private final ExecutorService thread;
    private volatile boolean closed;

    private Database(Vertx vertx, Connection connection, ExecutorService thread) {
        this.vertx = vertx;
        this.connection = connection;
        this.thread = thread;
    }

    /**
     * Opens (creating when missing) the database at {@code location} — a file path, or
     * {@code :memory:} for a throwaway one — and applies the migrations it has not seen yet.
     */
    public static Database open(Vertx vertx, String location, boolean durable, List<Migration> migrations)
            throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + location);
        try (Statement s = c.createStatement()) {
            if (!":memory:".equals(location)) {
                s.execute("PRAGMA journal_mode=WAL");
            }
            s.execute("PRAGMA synchronous=" + (durable ? "FULL" : "NORMAL"));
            s.execute("PRAGMA foreign_keys=ON");
            s.execute("PRAGMA busy_timeout=5000");
        }
        migrate(c, migrations);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "berth-db");
            t.setDaemon(true);
            return t;
        });
        return new Database(vertx, c, thread);
    }

    private static void migrate(Connection c, List<Migration> migrations) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, description TEXT NOT NULL,"
                    + " applied_at INTEGER NOT NULL)");
            int current = 0;
            try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                if (rs.next()) {
                    current = rs.getInt(1);
                }
            }
            List<Migration> ordered = new ArrayList<>(migrations);
            ordered.sort(Comparator.comparingInt(Migration::version));
            for (Migration m : ordered) {
                if (m.version() <= current) {
                    continue;
                }
                for (String sql : m.statements()) {
                    s.execute(sql);
                }
                try (PreparedStatement p = c.prepareStatement(
                        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    p.setInt(1, m.version());
                    p.setString(2, m.description());
                    p.setLong(3, System.currentTimeMillis());
                    p.executeUpdate();
                }
                LOG.atInfo().addKeyValue("version", m.version()).addKeyValue("what", m.description())
                        .log("database migrated");
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
    }

    /** Work on the connection; runs on the database thread. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws Exception;
    }

    /**
     * Runs {@code work} in one transaction on the database thread; commits when it returns, rolls
     * back when it throws. The future completes on the calling Vert.x context (or on the database
     * thread when called from outside Vert.x).
     */
    public <T> Future<T> transaction(Work<T> work) {
        Context context = vertx.getOrCreateContext();
        Promise<T> promise = Promise.promise();
        try {
            thread.execute(() -> {
                T result;
                try {
                    result = inTransaction(work);
                } catch (Throwable t) {
                    context.runOnContext(v -> promise.fail(t));
                    return;
                }
                context.runOnContext(v -> promise.complete(result));
            });
        } catch (RejectedExecutionException e) {
            return Future.failedFuture(new IllegalStateException("database is closed", e));
        }
        return promise.future();
    }

    /** Blocking form of {@link #transaction}, for the database thread's own callers and for tests. */
    public <T> T transactionBlocking(Work<T> work) throws Exception {
        java.util.concurrent.Future<T> f = thread.submit(() -> inTransaction(work));
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
        }
    }

    private <T> T inTransaction(Work<T> work) throws Exception {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        try {
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (Throwable t) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                t.addSuppressed(rollback);
            }
            throw t;
        }
    }

    /** Runs {@code task} on the database thread without a transaction of its own (for batching writers). */
    void execute(Runnable task) {
        thread.execute(task);
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.atWarn().setCause(e).log("closing the database failed");
        }
    }
}
