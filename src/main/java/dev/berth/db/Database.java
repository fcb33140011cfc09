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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.sqlite.SQLiteConfig;
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
    /** A read-only connection on its own thread for slow queries; null for an in-memory database. */
    private final Connection reader;
    private final ExecutorService readerThread;
    private volatile boolean closed;

    private Database(Vertx vertx, Connection connection, ExecutorService thread, Connection reader,
                     ExecutorService readerThread) {
        this.vertx = vertx;
        this.connection = connection;
        this.thread = thread;
        this.reader = reader;
        this.readerThread = readerThread;
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
        Connection reader = null;
        ExecutorService readerThread = null;
        if (!":memory:".equals(location)) {
            SQLiteConfig readOnly = new SQLiteConfig();
            readOnly.setReadOnly(true);
            readOnly.setBusyTimeout(5000);
            reader = readOnly.createConnection("jdbc:sqlite:" + location);
            reader.setAutoCommit(false);
            readerThread = thread("berth-db-read");
        }
        return new Database(vertx, c, thread("berth-db"), reader, readerThread);
    }

    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    private static void migrate(Connection c, List<Migration> migrations) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, description TEXT NOT NULL,"
                    + " applied_at INTEGER NOT NULL)");
            // Each component numbers its own migrations (the outbox 1.., the control plane 101..):
            // apply every version not applied yet, not just those above the highest.
            Set<Integer> applied = new HashSet<>();
            try (ResultSet rs = s.executeQuery("SELECT version FROM schema_version")) {
                while (rs.next()) {
                    applied.add(rs.getInt(1));
                }
            }
            List<Migration> ordered = new ArrayList<>(migrations);
            ordered.sort(Comparator.comparingInt(Migration::version));
            for (Migration m : ordered) {
                if (applied.contains(m.version())) {
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
     * back when it throws. The future completes on the calling Vert.x context (a caller outside
     * Vert.x gets a new one).
     */
    public <T> Future<T> transaction(Work<T> work) {
        return submit(thread, connection, work);
    }

    /**
     * Runs read-only {@code work} on a second connection and thread, so that a slow query (operator
     * listings over a large backlog) never delays the writers. It sees everything committed before
     * it started. With an in-memory database it runs on the database thread.
     */
    public <T> Future<T> read(Work<T> work) {
        return reader == null ? submit(thread, connection, work) : submit(readerThread, reader, work);
    }

    private <T> Future<T> submit(ExecutorService on, Connection c, Work<T> work) {
        Context context = vertx.getOrCreateContext();
        Promise<T> promise = Promise.promise();
        try {
            on.execute(() -> {
                T result;
                try {
                    result = inTransaction(c, work);
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

    /** Blocking form of {@link #transaction}, for tests and start-up code; never call it on the database thread. */
    public <T> T transactionBlocking(Work<T> work) throws Exception {
        java.util.concurrent.Future<T> f = thread.submit(() -> inTransaction(connection, work));
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
        }
    }

    private <T> T inTransaction(Connection c, Work<T> work) throws Exception {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (Throwable t) {
            try {
                c.rollback();
            } catch (SQLException rollback) {
                t.addSuppressed(rollback);
            }
            throw t;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ExecutorService t : new ExecutorService[] {thread, readerThread}) {
            if (t == null) {
                continue;
            }
            t.shutdown();
            try {
                t.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Connection c : new Connection[] {reader, connection}) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (SQLException e) {
                LOG.atWarn().setCause(e).log("closing the database failed");
            }
        }
    }
}
