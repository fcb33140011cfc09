package dev.berth.api;

import dev.berth.notify.Delivery;
import dev.berth.notify.EndpointHealth;
import dev.berth.notify.NotificationService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * {@code GET /api/webhooks} (endpoints and their health), {@code GET /api/webhooks/deliveries}
 * ({@code endpoint}, {@code status}, {@code limit}) and
 * {@code POST /api/webhooks/deliveries/{id}/redeliver}.
 */
final class WebhookHandler {
    private static final Set<String> STATUSES = Set.of(Delivery.PENDING, Delivery.DELIVERED, Delivery.FAILED);
    private static final int MAX_LIMIT = 1000;

    private final NotificationService notifications;

    WebhookHandler(NotificationService notifications) {
        this.notifications = notifications;
    }

    void list(RoutingContext ctx) {
        notifications.endpoints().onSuccess(endpoints -> {
            JsonArray list = new JsonArray();
            for (EndpointHealth e : endpoints) {
                list.add(new JsonObject()
                        .put("name", e.name())
                        .put("url", e.url())
                        .put("disabled", e.disabled())
                        .put("backlog", e.backlog())
                        .put("failed", e.failed())
                        .put("lastSuccessAt", time(e.lastSuccessAt()))
                        .put("lastErrorAt", time(e.lastErrorAt()))
                        .put("lastError", e.lastError()));
            }
            json(ctx, new JsonObject().put("endpoints", list));
        }).onFailure(ctx::fail);
    }

    void deliveries(RoutingContext ctx) {
        Optional<String> endpoint = Optional.ofNullable(ctx.request().getParam("endpoint"));
        if (endpoint.isPresent() && !notifications.hasEndpoint(endpoint.get())) {
            throw ApiException.invalid("endpoint", "no endpoint named '" + endpoint.get() + "'");
        }
        Optional<String> status = Optional.ofNullable(ctx.request().getParam("status"));
        if (status.isPresent() && !STATUSES.contains(status.get())) {
            throw ApiException.invalid("status", "status must be one of pending, delivered, failed");
        }
        int limit = 100;
        String limitParam = ctx.request().getParam("limit");
        if (limitParam != null) {
            try {
                limit = Integer.parseInt(limitParam);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw ApiException.invalid("limit", "limit must be a number from 1 to " + MAX_LIMIT);
            }
        }
        notifications.outbox().deliveries(endpoint, status, limit).onSuccess(list -> {
            JsonArray array = new JsonArray();
            for (Delivery d : list) {
                array.add(new JsonObject()
                        .put("id", d.id())
                        .put("endpoint", d.endpoint())
                        .put("status", d.status())
                        .put("attempts", d.attempts())
                        .put("event", new JsonObject()
                                .put("id", d.eventId())
                                .put("action", d.action())
                                .put("repository", d.repository())
                                .put("tag", d.tag())
                                .put("digest", d.digest())
                                .put("mediaType", d.mediaType())
                                .put("createdAt", time(d.createdAt())))
                        .put("nextAttemptAt", Delivery.PENDING.equals(d.status()) ? time(d.nextAttemptAt()) : null)
                        .put("lastAttemptAt", time(d.lastAttemptAt()))
                        .put("deliveredAt", time(d.deliveredAt()))
                        .put("lastError", d.lastError()));
            }
            json(ctx, new JsonObject().put("deliveries", array));
        }).onFailure(ctx::fail);
    }

    void redeliver(RoutingContext ctx) {
        long id;
        try {
            id = Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw ApiException.invalid("id", "delivery id must be a number");
        }
        notifications.outbox().redeliver(id).onSuccess(endpoint -> {
            if (endpoint.isEmpty()) {
                ctx.fail(ApiException.notFound("id", "no delivery " + id));
                return;
            }
            ctx.response().setStatusCode(202);
            json(ctx, new JsonObject().put("id", id).put("endpoint", endpoint.get()).put("status", Delivery.PENDING));
        }).onFailure(ctx::fail);
    }

    private static String time(long epochMillis) {
        return epochMillis <= 0 ? null : Instant.ofEpochMilli(epochMillis).toString();
    }

    private static void json(RoutingContext ctx, JsonObject body) {
        ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
    }
}
