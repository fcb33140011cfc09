package dev.berth.notify;

import dev.berth.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives recorded events to in-process subscribers (the deployer), in order, after they are
 * committed, with a durable cursor per subscriber: an event is handed over again after a restart
 * until its handler's future has succeeded (at-least-once). A handler that fails is retried, with
 * backoff, before any later event.
 *
 * <p>Subscribe at start, before the server accepts requests (BerthServer offers a hook): the
 * subscriber's filter is what makes the outbox record the events it wants. A subscriber seen for the
 * first time starts at the end of the log.
 */
public final class EventFeed {
    private static final Logger LOG = LoggerFactory.getLogger(EventFeed.class);
    private static final int PAGE = 100;
    private static final long POLL_MS = 5_000;
    private static final long MAX_RETRY_MS = 30_000;

    private final Vertx vertx;
    private final Database database;
    private final Outbox outbox;
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();

    private record Row(long seq, String payload) {
    }

    public EventFeed(Vertx vertx, Database database, Outbox outbox) {
        this.vertx = vertx;
        this.database = database;
        this.outbox = outbox;
        outbox.onRecorded(endpoints -> subscriptions.values().forEach(s -> s.loop.wake()));
    }

    /** One subscriber's position in the log. All its state lives on its loop's context. */
    public final class Subscription {
        private final String name;
        private final Predicate<Event> filter;
        private final Function<Event, Future<Void>> handler;
        private final ContextLoop loop;
        private Object interest;
        private volatile long cursor;
        private long retryMs;

        private Subscription(String name, Predicate<Event> filter, Function<Event, Future<Void>> handler) {
            this.name = name;
            this.filter = filter;
            this.handler = handler;
            this.loop = new ContextLoop(vertx, "feed " + name, this::step);
        }

        /** The last event this subscriber has processed, as last saved. */
        public long cursor() {
            return cursor;
        }

        public void stop() {
            loop.stop();
            subscriptions.remove(name, this);
            outbox.removeSubscriberInterest(interest);
        }

        private void step() {
            long from = cursor;
            database.transaction(c -> {
                List<Row> page = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement(
                        "SELECT seq, payload FROM notify_event WHERE seq > ? ORDER BY seq LIMIT ?")) {
                    p.setLong(1, from);
                    p.setInt(2, PAGE);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            page.add(new Row(rs.getLong(1), rs.getString(2)));
                        }
                    }
                }
                return page;
            }).onComplete(ar -> {
                if (ar.failed()) {
                    LOG.atWarn().setCause(ar.cause()).addKeyValue("subscriber", name).log("cannot read events");
                    loop.idle(POLL_MS);
                } else if (ar.result().isEmpty()) {
                    loop.idle(POLL_MS);
                } else {
                    handle(ar.result(), 0);
                }
            });
        }

        /**
         * Hands over the page's matching events one by one. The cursor is saved after each handled
         * event and at the end of the page (so skipped events cost one write per page, not each).
         */
        private void handle(List<Row> page, int index) {
            if (loop.stopped()) {
                return;
            }
            if (index == page.size()) {
                long last = page.get(page.size() - 1).seq();
                saveCursor(last).onComplete(ar -> {
                    if (ar.succeeded()) {
                        cursor = last;
                        loop.idle(0);
                    } else {
                        retry(null, ar.cause());
                    }
                });
                return;
            }
            Row row = page.get(index);
            Event event;
            try {
                event = EventJson.fromJson(row.payload());
            } catch (RuntimeException e) {
                LOG.atError().setCause(e).addKeyValue("subscriber", name).addKeyValue("seq", row.seq())
                        .log("unreadable event skipped");
                handle(page, index + 1);
                return;
            }
            if (!filter.test(event)) {
                handle(page, index + 1);
                return;
            }
            Future<Void> handled;
            try {
                handled = handler.apply(event);
            } catch (RuntimeException e) {
                handled = Future.failedFuture(e);
            }
            handled.compose(v -> saveCursor(row.seq())).onComplete(ar -> {
                if (ar.succeeded()) {
                    retryMs = 0;
                    cursor = row.seq();
                    handle(page, index + 1);
                } else {
                    retry(event, ar.cause());
                }
            });
        }

        private void retry(Event event, Throwable cause) {
            retryMs = retryMs == 0 ? 250 : Math.min(MAX_RETRY_MS, retryMs * 2);
            LOG.atWarn().setCause(cause).addKeyValue("subscriber", name)
                    .addKeyValue("event", event == null ? "-" : event.id()).addKeyValue("retryMs", retryMs)
                    .log("event handling failed; will retry");
            // New events must not cut a backoff short: they queue behind the failing one.
            loop.idle(retryMs, true);
        }

        private Future<Void> saveCursor(long seq) {
            return database.transaction(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE notify_subscription SET cursor = ? WHERE name = ?")) {
                    p.setLong(1, seq);
                    p.setString(2, name);
                    p.executeUpdate();
                }
                return null;
            });
        }
    }

    /**
     * Subscribes {@code handler} to events matching {@code filter}, resuming from the subscriber's
     * stored cursor (a new subscriber starts at the end of the log). The future completes once the
     * subscription is running.
     */
    public Future<Subscription> subscribe(String name, EventFilter filter, Function<Event, Future<Void>> handler) {
        return subscribe(name, (Predicate<Event>) filter::matches, handler);
    }

    /**
     * Like {@link #subscribe(String, EventFilter, Function)} with any predicate: one that changes
     * over time (the deployer's: pushes to repositories some service follows) makes the outbox
     * record only what the subscriber wants at the time of the push. It is asked on the request
     * path, so it must be cheap and must not block.
     */
    public Future<Subscription> subscribe(String name, Predicate<Event> filter, Function<Event, Future<Void>> handler) {
        if (subscriptions.containsKey(name)) {
            return Future.failedFuture(new IllegalStateException("already subscribed: " + name));
        }
        Subscription s = new Subscription(name, filter, handler);
        // Interest first, so nothing it wants goes unrecorded while the cursor is loaded.
        s.interest = outbox.addSubscriberInterest(name, filter);
        Promise<Subscription> started = Promise.promise();
        database.transaction(c -> {
            // A first subscription starts at the end of the log; a known one keeps its cursor.
            try (PreparedStatement p = c.prepareStatement("INSERT OR IGNORE INTO notify_subscription (name, cursor)"
                    + " SELECT ?, COALESCE(MAX(seq), 0) FROM notify_event")) {
                p.setString(1, name);
                p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT cursor FROM notify_subscription WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }).onComplete(ar -> {
            if (ar.failed()) {
                outbox.removeSubscriberInterest(s.interest);
                started.fail(ar.cause());
                return;
            }
            // Only now, with the cursor set on its own context, does the subscription become visible to wake-ups.
            s.loop.context().runOnContext(v -> {
                s.cursor = ar.result();
                if (subscriptions.putIfAbsent(name, s) != null) {
                    outbox.removeSubscriberInterest(s.interest);
                    started.fail(new IllegalStateException("already subscribed: " + name));
                    return;
                }
                s.loop.start();
                started.complete(s);
            });
        });
        return started.future();
    }
}
