package dev.berth.api;

import dev.berth.config.BerthConfig.MirrorCacheConfig;
import dev.berth.config.BerthConfig.UpstreamConfig;
import dev.berth.mirror.Mirror;
import dev.berth.notify.NotificationService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.berth.storage.StorageDriver;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.Map;

/** The /api/ route table. */
public final class ApiRoutes {
    private ApiRoutes() {
    }

    /**
     * @param mirror the pull-through mirror, or null when no upstream is configured
     * @param metrics the meters exported on {@code /metrics}
     */
    public static void mount(Router router, NotificationService notifications, StorageDriver driver, Mirror mirror,
                             PrometheusMeterRegistry metrics) {
        WebhookHandler webhooks = new WebhookHandler(notifications);
        // The storage driver and the requests it made to its backing store (S3), by operation.
        router.route(HttpMethod.GET, "/api/storage").handler(ctx -> {
            Map<String, Long> counts = driver.requestCounts();
            JsonObject body = new JsonObject().put("driver", driver.name())
                    .put("requests", new JsonObject(new java.util.LinkedHashMap<>(counts)))
                    .put("requestsTotal", counts.values().stream().mapToLong(Long::longValue).sum());
            ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
        });
        router.route(HttpMethod.GET, "/api/mirror").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json").end(mirrorStatus(mirror).encode()));
        router.route(HttpMethod.POST, "/api/mirror/evict").handler(ctx -> {
            if (mirror == null) {
                ctx.fail(ApiException.notFound("mirror", "no mirror upstream is configured"));
                return;
            }
            mirror.cache().evict().onSuccess(e -> ctx.response().putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("evictedItems", e.items()).put("evictedBytes", e.bytes())
                            .put("blobsDeleted", e.blobsDeleted()).encode())).onFailure(ctx::fail);
        });
        // Prometheus' text format.
        router.route(HttpMethod.GET, "/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
        router.route(HttpMethod.GET, "/api/webhooks").handler(webhooks::list);
        router.route(HttpMethod.GET, "/api/webhooks/deliveries").handler(webhooks::deliveries);
        router.route(HttpMethod.POST, "/api/webhooks/deliveries/:id/redeliver").handler(webhooks::redeliver);
        router.route("/api/*").failureHandler(new ApiFailureHandler());
    }

    /** Per upstream: where it is, what the mirror did with it, and what the cache holds of it. */
    private static JsonObject mirrorStatus(Mirror mirror) {
        JsonArray upstreams = new JsonArray();
        JsonObject body = new JsonObject().put("upstreams", upstreams);
        if (mirror == null) {
            return body;
        }
        Map<String, Map<String, Long>> counters = mirror.stats().counters();
        long bytes = 0;
        long items = 0;
        for (UpstreamConfig u : mirror.upstreams()) {
            JsonObject o = new JsonObject().put("name", u.name()).put("url", u.url()).put("host", u.host())
                    .put("prefix", u.prefix()).put("default", u.isDefault()).put("tagTtl", u.tagTtl().toString());
            counters.getOrDefault(u.name(), Map.of()).forEach(o::put);
            long size = mirror.cache().size(u.name());
            long count = mirror.cache().items(u.name());
            o.put("cacheBytes", size).put("cacheItems", count);
            bytes += size;
            items += count;
            upstreams.add(o);
        }
        MirrorCacheConfig cache = mirror.cache().config();
        body.put("cache", new JsonObject().put("bytes", bytes).put("items", items)
                .put("maxSize", cache.maxSize().bytes()).put("ttl", cache.ttl().toString())
                .put("evictInterval", cache.evictInterval().toString()));
        return body;
    }

    /** The answer for /api/ requests no route took (404, 405). */
    public static io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> unmatched() {
        return new ApiFailureHandler();
    }
}
