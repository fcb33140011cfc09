package dev.berth.notify;

import dev.berth.config.BerthConfig.EndpointConfig;
import dev.berth.config.BerthConfig.NotificationsConfig;
import dev.berth.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notifications as one piece: the outbox, a dispatcher per enabled endpoint, the in-process feed,
 * and a periodic clean-up of old deliveries. Built and started by the composition root.
 */
public final class NotificationService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NotificationService.class);
    private static final long CLEAN_UP_MS = 10 * 60_000;

    private final Vertx vertx;
    private final NotificationsConfig config;
    private final Outbox outbox;
    private final EventFeed feed;
    private final Map<String, EndpointDispatcher> dispatchers = new LinkedHashMap<>();
    private final Event.Source source;
    private long cleanUpTimer = -1;

    public NotificationService(Vertx vertx, Database database, NotificationsConfig config, String sourceAddr) {
        this.vertx = vertx;
        this.config = config;
        Map<String, EventFilter> filters = new LinkedHashMap<>();
        for (EndpointConfig e : config.endpoints()) {
            if (!e.disabled()) {
                filters.put(e.name(), filterOf(e));
            }
        }
        this.outbox = new Outbox(vertx, database, filters);
        this.feed = new EventFeed(vertx, database, outbox);
        for (EndpointConfig e : config.endpoints()) {
            if (!e.disabled()) {
                dispatchers.put(e.name(), new EndpointDispatcher(vertx, outbox, e));
            }
        }
        outbox.onRecorded(endpoints -> endpoints.forEach(name -> {
            EndpointDispatcher d = dispatchers.get(name);
            if (d != null) {
                d.wake();
            }
        }));
        this.source = new Event.Source(sourceAddr, UUID.randomUUID().toString());
    }

    static EventFilter filterOf(EndpointConfig e) {
        return new EventFilter(e.filter().actions(), e.filter().mediaTypes(), e.filter().repositories(),
                e.filter().preset().isEmpty() ? null : e.filter().preset());
    }

    /** Starts delivering (pending deliveries from before a restart go first) and the periodic clean-up. */
    public void start() {
        dispatchers.values().forEach(EndpointDispatcher::start);
        cleanUpTimer = vertx.setPeriodic(60_000, CLEAN_UP_MS, id -> outbox
                .cleanUp(System.currentTimeMillis() - config.retention().toMillis())
                .onSuccess(n -> {
                    if (n > 0) {
                        LOG.atInfo().addKeyValue("events", n).log("removed old delivered events");
                    }
                })
                .onFailure(e -> LOG.atWarn().setCause(e).log("outbox clean-up failed")));
        if (!dispatchers.isEmpty()) {
            LOG.atInfo().addKeyValue("endpoints", String.join(",", dispatchers.keySet())).log("webhooks enabled");
        }
    }

    public Outbox outbox() {
        return outbox;
    }

    public EventFeed feed() {
        return feed;
    }

    /** This registry instance, as named in every event. */
    public Event.Source source() {
        return source;
    }

    /** Every configured endpoint with its health, in configuration order. */
    public Future<List<EndpointHealth>> endpoints() {
        List<Future<EndpointHealth>> all = new ArrayList<>();
        for (EndpointConfig e : config.endpoints()) {
            all.add(outbox.stats(e.name()).map(s -> new EndpointHealth(e.name(), e.url(), e.disabled(),
                    s.backlog(), s.failed(), s.lastSuccessAt(), s.lastErrorAt(), s.lastError())));
        }
        return Future.all(all).map(f -> {
            List<EndpointHealth> list = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                list.add(f.resultAt(i));
            }
            return list;
        });
    }

    /** Whether an endpoint of this name is configured. */
    public boolean hasEndpoint(String name) {
        return config.endpoints().stream().anyMatch(e -> e.name().equals(name));
    }

    /** Whether an endpoint of this name is configured and enabled (so its deliveries are sent). */
    public boolean delivers(String name) {
        return dispatchers.containsKey(name);
    }

    @Override
    public void close() {
        if (cleanUpTimer >= 0) {
            vertx.cancelTimer(cleanUpTimer);
        }
        dispatchers.values().forEach(EndpointDispatcher::stop);
    }
}
