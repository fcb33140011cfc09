package dev.berth.notify;

import dev.berth.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The durable outbox. {@link #record} stores events, with a pending delivery for every endpoint whose
 * filter wants them, in the embedded database; concurrent callers share one transaction (group
 * commit), and each caller's future completes once its events are committed. Events that no
 * endpoint and no in-process subscriber wants are not stored at all.
 *
 * <p>Everything else (what to deliver next, outcomes, operator queries, clean-up) is a small
 * transaction on the database thread; at most one batch per endpoint is ever held in memory.
 */
public final class Outbox {
    private record Interest(String name, Predicate<Event> wanted) {
    }

    private record PendingRecord(List<Event> events, CompletableFuture<Void> done) {
    }

    /** How long a blocking recorder waits for the commit before giving up (and failing its request). */
    private static final long RECORD_TIMEOUT_SECONDS = 30;

    private final Vertx vertx;
    private final Database database;
    private final Map<String, EventFilter> endpoints;
    private final List<Interest> subscribers = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<PendingRecord> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushing = new AtomicBoolean();
    private final List<Consumer<Set<String>>> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param endpoints enabled endpoints by name, with their filters
     */
    public Outbox(Vertx vertx, Database database, Map<String, EventFilter> endpoints) {
        this.vertx = vertx;
        this.database = database;
        this.endpoints = Map.copyOf(endpoints);
    }

    /**
     * Makes events {@code wanted} accepts worth recording for an in-process subscriber; returns a
     * token to undo it. It is asked on the request path: it must be cheap and must not block.
     */
    Object addSubscriberInterest(String name, Predicate<Event> wanted) {
        Interest interest = new Interest(name, wanted);
        subscribers.add(interest);
        return interest;
    }

    /** Undoes one {@link #addSubscriberInterest}. */
    void removeSubscriberInterest(Object token) {
        subscribers.removeIf(i -> i == token);
    }

    /**
     * Called after every commit that stored events, with the endpoints that got new deliveries (maybe
     * none: events stored only for in-process subscribers), and after a redelivery.
     */
    void onRecorded(Consumer<Set<String>> listener) {
        listeners.add(listener);
    }

    /** Whether nothing could ever be recorded (no endpoint, no subscriber): callers may skip building events. */
    public boolean isIdle() {
        return endpoints.isEmpty() && subscribers.isEmpty();
    }

    /** Whether recording {@code event} would store anything; cheap, for callers that build events lazily. */
    public boolean wants(Event event) {
        for (EventFilter f : endpoints.values()) {
            if (f.matches(event)) {
                return true;
            }
        }
        for (Interest i : subscribers) {
            if (i.wanted().test(event)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stores the wanted ones among {@code events} durably; completes when they are committed (at
     * once when none is wanted). Completes on the caller's context.
     */
    public Future<Void> record(List<Event> events) {
        CompletableFuture<Void> done = enqueue(events);
        if (done.isDone() && !done.isCompletedExceptionally()) {
            return Future.succeededFuture();
        }
        Context context = vertx.getOrCreateContext();
        Promise<Void> promise = Promise.promise();
        done.whenComplete((v, error) -> context.runOnContext(x -> {
            if (error == null) {
                promise.complete();
            } else {
                promise.fail(error);
            }
        }));
        return promise.future();
    }

    /**
     * Like {@link #record}, but blocks the calling thread until the events are committed: for the
     * store's change hooks, which run on worker threads while a repository is locked, so that events
     * are ordered exactly like the changes. Never call it on an event loop.
     */
    public void recordBlocking(List<Event> events) throws Exception {
        try {
            enqueue(events).get(RECORD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
        }
    }

    private CompletableFuture<Void> enqueue(List<Event> events) {
        List<Event> wanted = events.stream().filter(this::wants).toList();
        if (wanted.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new PendingRecord(wanted, done));
        if (flushing.compareAndSet(false, true)) {
            flush();
        }
        return done;
    }

    /**
     * Writes everything queued in one transaction and completes each record. The queue is never
     * left behind: records the transaction did not take (a closed database) are failed, and the
     * flag is always reset before another flush may start.
     */
    private void flush() {
        List<PendingRecord> batch = new ArrayList<>();
        database.transaction(c -> {
            for (PendingRecord r; (r = queue.poll()) != null; ) {
                batch.add(r);
            }
            return insert(c, batch);
        }).onComplete(ar -> {
            try {
                if (ar.failed() && batch.isEmpty()) {
                    for (PendingRecord r; (r = queue.poll()) != null; ) {
                        batch.add(r);
                    }
                }
                for (PendingRecord r : batch) {
                    if (ar.succeeded()) {
                        r.done().complete(null);
                    } else {
                        r.done().completeExceptionally(ar.cause());
                    }
                }
                if (ar.succeeded()) {
                    listeners.forEach(l -> l.accept(ar.result()));
                }
            } finally {
                flushing.set(false);
            }
            if (!queue.isEmpty() && flushing.compareAndSet(false, true)) {
                flush();
            }
        });
    }

    /** Inserts the events and their deliveries; returns the endpoints that got any. */
    private Set<String> insert(Connection c, List<PendingRecord> batch) throws SQLException {
        Set<String> touched = new LinkedHashSet<>();
        long now = System.currentTimeMillis();
        try (PreparedStatement event = c.prepareStatement(
                "INSERT INTO notify_event (id, created_at, action, repository, tag, digest, media_type, payload)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS);
             PreparedStatement delivery = c.prepareStatement(
                     "INSERT INTO notify_delivery (endpoint, event_seq, status, next_attempt_at) VALUES (?, ?, 'pending', ?)")) {
            for (PendingRecord r : batch) {
                for (Event e : r.events()) {
                    Event.Target t = e.target();
                    event.setString(1, e.id());
                    event.setLong(2, now);
                    event.setString(3, e.action());
                    event.setString(4, t == null ? null : t.repository());
                    event.setString(5, t == null ? null : t.tag());
                    event.setString(6, t == null ? null : t.digest());
                    event.setString(7, t == null ? null : t.mediaType());
                    event.setString(8, EventJson.toJson(e));
                    event.executeUpdate();
                    long seq;
                    try (ResultSet keys = event.getGeneratedKeys()) {
                        keys.next();
                        seq = keys.getLong(1);
                    }
                    for (Map.Entry<String, EventFilter> endpoint : endpoints.entrySet()) {
                        if (endpoint.getValue().matches(e)) {
                            delivery.setString(1, endpoint.getKey());
                            delivery.setLong(2, seq);
                            delivery.setLong(3, now);
                            delivery.executeUpdate();
                            touched.add(endpoint.getKey());
                        }
                    }
                }
            }
        }
        return touched;
    }

    /** A batch to send: the deliveries in event order, their events as JSON, and when it is due. */
    record Batch(List<Long> deliveryIds, List<String> eventsJson, List<Integer> attempts, long dueAt) {
        boolean isEmpty() {
            return deliveryIds.isEmpty();
        }
    }

    /**
     * The next deliveries for {@code endpoint} in event order, up to {@code max}: the oldest pending
     * one and those after it that are due by then (or already due now). Empty when nothing is pending.
     */
    Future<Batch> nextBatch(String endpoint, int max) {
        long now = System.currentTimeMillis();
        return database.transaction(c -> {
            List<Long> ids = new ArrayList<>();
            List<String> json = new ArrayList<>();
            List<Integer> attempts = new ArrayList<>();
            long dueAt = 0;
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT d.id, d.attempts, d.next_attempt_at, e.payload FROM notify_delivery d"
                            + " JOIN notify_event e ON e.seq = d.event_seq"
                            + " WHERE d.endpoint = ? AND d.status = 'pending' ORDER BY d.event_seq, d.id LIMIT ?")) {
                p.setString(1, endpoint);
                p.setInt(2, max);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        long due = rs.getLong(3);
                        if (ids.isEmpty()) {
                            dueAt = due;
                        } else if (due > Math.max(dueAt, now)) {
                            break; // not due yet: it waits for its own retry time
                        }
                        ids.add(rs.getLong(1));
                        attempts.add(rs.getInt(2));
                        json.add(rs.getString(4));
                    }
                }
            }
            return new Batch(ids, json, attempts, dueAt);
        });
    }

    /** The batch reached the endpoint. */
    Future<Void> delivered(String endpoint, List<Long> ids) {
        long now = System.currentTimeMillis();
        return database.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE notify_delivery SET status = 'delivered',"
                    + " attempts = attempts + 1, last_attempt_at = ?, delivered_at = ?, last_error = NULL WHERE id = ?")) {
                for (long id : ids) {
                    p.setLong(1, now);
                    p.setLong(2, now);
                    p.setLong(3, id);
                    p.addBatch();
                }
                p.executeBatch();
            }
            health(c, endpoint, now, null);
            return null;
        });
    }

    /**
     * The batch failed with {@code error}: each delivery is retried at {@code retryAt}, or parked as
     * failed once it has been attempted {@code maxAttempts} times.
     */
    Future<Void> failed(String endpoint, List<Long> ids, String error, long retryAt, int maxAttempts) {
        long now = System.currentTimeMillis();
        return database.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE notify_delivery SET attempts = attempts + 1,"
                    + " last_attempt_at = ?, last_error = ?, next_attempt_at = ?,"
                    + " status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?")) {
                for (long id : ids) {
                    p.setLong(1, now);
                    p.setString(2, error);
                    p.setLong(3, retryAt);
                    p.setInt(4, maxAttempts);
                    p.setLong(5, id);
                    p.addBatch();
                }
                p.executeBatch();
            }
            health(c, endpoint, now, error);
            return null;
        });
    }

    private static void health(Connection c, String endpoint, long now, String error) throws SQLException {
        String sql = error == null
                ? "INSERT INTO notify_endpoint (name, last_success_at) VALUES (?, ?)"
                        + " ON CONFLICT(name) DO UPDATE SET last_success_at = excluded.last_success_at"
                : "INSERT INTO notify_endpoint (name, last_error_at, last_error) VALUES (?, ?, ?)"
                        + " ON CONFLICT(name) DO UPDATE SET last_error_at = excluded.last_error_at,"
                        + " last_error = excluded.last_error";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, endpoint);
            p.setLong(2, now);
            if (error != null) {
                p.setString(3, error);
            }
            p.executeUpdate();
        }
    }

    /** An endpoint's queue and last outcomes; times in epoch milliseconds, 0 when never. */
    record Stats(long backlog, long failed, long lastSuccessAt, long lastErrorAt, String lastError) {
    }

    Future<Stats> stats(String endpoint) {
        return database.read(c -> {
            long backlog = 0;
            long failed = 0;
            try (PreparedStatement p = c.prepareStatement("SELECT status, COUNT(*) FROM notify_delivery"
                    + " WHERE endpoint = ? AND status IN ('pending', 'failed') GROUP BY status")) {
                p.setString(1, endpoint);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        if (Delivery.PENDING.equals(rs.getString(1))) {
                            backlog = rs.getLong(2);
                        } else {
                            failed = rs.getLong(2);
                        }
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT last_success_at, last_error_at, last_error FROM notify_endpoint WHERE name = ?")) {
                p.setString(1, endpoint);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        return new Stats(backlog, failed, rs.getLong(1), rs.getLong(2), rs.getString(3));
                    }
                }
            }
            return new Stats(backlog, failed, 0, 0, null);
        });
    }

    /**
     * Deliveries, newest first, optionally of one endpoint and/or one status, and only those with an
     * id below {@code before} (the last id of the previous page) to page back through them.
     */
    public Future<List<Delivery>> deliveries(Optional<String> endpoint, Optional<String> status, Optional<Long> before,
                                             int limit) {
        return database.read(c -> {
            StringBuilder sql = new StringBuilder("SELECT d.id, d.endpoint, d.event_seq, e.id, e.action, e.repository,"
                    + " e.tag, e.digest, e.media_type, d.status, d.attempts, e.created_at, d.next_attempt_at,"
                    + " d.last_attempt_at, d.delivered_at, d.last_error FROM notify_delivery d"
                    + " JOIN notify_event e ON e.seq = d.event_seq WHERE 1 = 1");
            List<String> args = new ArrayList<>();
            endpoint.ifPresent(e -> {
                sql.append(" AND d.endpoint = ?");
                args.add(e);
            });
            status.ifPresent(s -> {
                sql.append(" AND d.status = ?");
                args.add(s);
            });
            before.ifPresent(id -> {
                sql.append(" AND d.id < ?");
                args.add(Long.toString(id));
            });
            sql.append(" ORDER BY d.id DESC LIMIT ?");
            List<Delivery> result = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                int i = 1;
                for (String a : args) {
                    p.setString(i++, a);
                }
                p.setInt(i, limit);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        result.add(new Delivery(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                                rs.getString(10), rs.getInt(11), rs.getLong(12), rs.getLong(13), rs.getLong(14),
                                rs.getLong(15), rs.getString(16)));
                    }
                }
            }
            return result;
        });
    }

    /** The endpoint delivery {@code id} belongs to; empty when there is no such delivery. */
    public Future<Optional<String>> endpointOf(long id) {
        return database.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT endpoint FROM notify_delivery WHERE id = ?")) {
                p.setLong(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    /**
     * Puts delivery {@code id} back in its endpoint's queue with fresh attempts. Empty when there is no
     * such delivery; otherwise the endpoint's name.
     */
    public Future<Optional<String>> redeliver(long id) {
        long now = System.currentTimeMillis();
        return database.transaction(c -> {
            String endpoint;
            try (PreparedStatement p = c.prepareStatement("SELECT endpoint FROM notify_delivery WHERE id = ?")) {
                p.setLong(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<String>empty();
                    }
                    endpoint = rs.getString(1);
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE notify_delivery SET status = 'pending', attempts = 0,"
                    + " next_attempt_at = ? WHERE id = ?")) {
                p.setLong(1, now);
                p.setLong(2, id);
                p.executeUpdate();
            }
            return Optional.of(endpoint);
        }).onSuccess(e -> e.ifPresent(name -> listeners.forEach(l -> l.accept(Set.of(name)))));
    }

    /**
     * Deletes deliveries delivered before {@code cutoff} and events that no delivery and no
     * subscriber still needs, a few thousand rows per transaction so that writers are never held up
     * long; returns how many events went.
     */
    Future<Integer> cleanUp(long cutoff) {
        return deleteInChunks("DELETE FROM notify_delivery WHERE id IN (SELECT id FROM notify_delivery"
                + " WHERE status = 'delivered' AND delivered_at < ? LIMIT 5000)", cutoff, 0)
                .compose(deliveries -> deleteInChunks("DELETE FROM notify_event WHERE seq IN (SELECT seq FROM notify_event e"
                        + " WHERE e.created_at < ? AND NOT EXISTS (SELECT 1 FROM notify_delivery d WHERE d.event_seq = e.seq)"
                        + " AND e.seq <= COALESCE((SELECT MIN(cursor) FROM notify_subscription), 9223372036854775807)"
                        + " LIMIT 5000)", cutoff, 0));
    }

    private Future<Integer> deleteInChunks(String sql, long cutoff, int sofar) {
        return database.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement(sql)) {
                p.setLong(1, cutoff);
                return p.executeUpdate();
            }
        }).compose(n -> n == 0 ? Future.succeededFuture(sofar) : deleteInChunks(sql, cutoff, sofar + n));
    }
}
