package dev.berth.notify;

import dev.berth.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives recorded events to in-process subscribers (the deployer), in order, after they are
 * committed, with a durable cursor per subscriber: an event is handed over again after a restart
 * until its handler's future has succeeded (at-least-once). A handler that fails is retried, with
 * backoff, before any later event.
 *
 * <p>Subscribe at start, before the server accepts requests: the subscriber's filter is what makes
 * the outbox record the events it wants. A subscriber seen for the first time starts at the end of
 * the log.
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
        outbox.onRecorded(endpoints -> subscriptions.values().forEach(Subscription::wake));
    }

    /** One subscriber's position in the log. */
    public final class Subscription {
        private final String name;
        private final EventFilter filter;
        private final Function<Event, Future<Void>> handler;
        private final Context context;
        private long cursor;
        private boolean running;
        private boolean wakeAgain;
        private long timer = -1;
        private long retryMs = 0;
        private volatile boolean stopped;

        private Subscription(String name, EventFilter filter, Function<Event, Future<Void>> handler) {
            this.name = name;
            this.filter = filter;
            this.handler = handler;
            this.context = vertx.getOrCreateContext();
        }

        /** The last event this subscriber has processed (its durable cursor). */
        public long cursor() {
            return cursor;
        }

        void wake() {
            context.runOnContext(v -> {
                if (stopped || retryMs > 0) {
                    return; // a failed handler is waiting out its backoff; new events queue behind it
                }
                if (running) {
                    wakeAgain = true;
                } else {
                    if (timer >= 0) {
                        vertx.cancelTimer(timer);
                        timer = -1;
                    }
                    run();
                }
            });
        }

        public void stop() {
            stopped = true;
            subscriptions.remove(name, this);
        }

        private void run() {
            if (stopped) {
                return;
            }
            running = true;
            wakeAgain = false;
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
                    idle(POLL_MS);
                } else if (ar.result().isEmpty()) {
                    idle(POLL_MS);
                } else {
                    handle(ar.result(), 0);
                }
            });
        }

        /** Hands over events one by one; the cursor moves past each once its handler succeeded. */
        private void handle(List<Row> page, int index) {
            if (stopped) {
                return;
            }
            if (index == page.size()) {
                run();
                return;
            }
            long seq = page.get(index).seq();
            Event event = EventJson.fromJson(page.get(index).payload());
            Future<Void> handled;
            if (filter.matches(event)) {
                try {
                    handled = handler.apply(event);
                } catch (RuntimeException e) {
                    handled = Future.failedFuture(e);
                }
            } else {
                handled = Future.succeededFuture();
            }
            handled.compose(v -> saveCursor(seq)).onComplete(ar -> {
                if (ar.succeeded()) {
                    retryMs = 0;
                    cursor = seq;
                    handle(page, index + 1);
                } else {
                    retryMs = retryMs == 0 ? 250 : Math.min(MAX_RETRY_MS, retryMs * 2);
                    LOG.atWarn().setCause(ar.cause()).addKeyValue("subscriber", name).addKeyValue("event", event.id())
                            .addKeyValue("retryMs", retryMs).log("event handler failed; will retry");
                    idle(retryMs);
                }
            });
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

        private void idle(long ms) {
            running = false;
            if (stopped) {
                return;
            }
            if (wakeAgain) {
                run();
                return;
            }
            timer = vertx.setTimer(Math.max(1, ms), id -> {
                timer = -1;
                run();
            });
        }
    }

    /**
     * Subscribes {@code handler} to events matching {@code filter}, resuming from the subscriber's
     * stored cursor. The future completes once the subscription is registered and running.
     */
    public Future<Subscription> subscribe(String name, EventFilter filter, Function<Event, Future<Void>> handler) {
        Subscription s = new Subscription(name, filter, handler);
        if (subscriptions.putIfAbsent(name, s) != null) {
            return Future.failedFuture(new IllegalStateException("already subscribed: " + name));
        }
        outbox.addSubscriberInterest(name, filter);
        return database.transaction(c -> {
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
        }).map(cursor -> {
            s.cursor = cursor;
            s.wake();
            return s;
        });
    }
}
