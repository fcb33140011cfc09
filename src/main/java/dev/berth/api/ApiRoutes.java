package dev.berth.api;

import dev.berth.notify.NotificationService;
import dev.berth.storage.StorageDriver;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.Map;

/** The /api/ route table. */
public final class ApiRoutes {
    private ApiRoutes() {
    }

    public static void mount(Router router, NotificationService notifications, StorageDriver driver) {
        WebhookHandler webhooks = new WebhookHandler(notifications);
        // The storage driver and the requests it made to its backing store (S3), by operation.
        router.route(HttpMethod.GET, "/api/storage").handler(ctx -> {
            Map<String, Long> counts = driver.requestCounts();
            JsonObject body = new JsonObject().put("driver", driver.name())
                    .put("requests", new JsonObject(new java.util.LinkedHashMap<>(counts)))
                    .put("requestsTotal", counts.values().stream().mapToLong(Long::longValue).sum());
            ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
        });
        router.route(HttpMethod.GET, "/api/webhooks").handler(webhooks::list);
        router.route(HttpMethod.GET, "/api/webhooks/deliveries").handler(webhooks::deliveries);
        router.route(HttpMethod.POST, "/api/webhooks/deliveries/:id/redeliver").handler(webhooks::redeliver);
        router.route("/api/*").failureHandler(new ApiFailureHandler());
    }

    /** The answer for /api/ requests no route took (404, 405). */
    public static io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> unmatched() {
        return new ApiFailureHandler();
    }
}
