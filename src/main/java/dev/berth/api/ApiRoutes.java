package dev.berth.api;

import dev.berth.notify.NotificationService;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

/** The /api/ route table. */
public final class ApiRoutes {
    private ApiRoutes() {
    }

    public static void mount(Router router, NotificationService notifications) {
        WebhookHandler webhooks = new WebhookHandler(notifications);
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
