package dev.berth.api;

import dev.berth.notify.Delivery;
import dev.berth.notify.EndpointHealth;
import dev.berth.notify.NotificationService;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * {@code GET /api/webhooks} (endpoints and their health; URLs without credentials or query),
 * {@code GET /api/webhooks/deliveries} ({@code endpoint}, {@code status}, {@code limit}, and
 * {@code before} to page back) and
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
                        .put("url", redacted(e.url()))
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
        Optional<String> endpoint = param(ctx, "endpoint");
        if (endpoint.isPresent() && !notifications.hasEndpoint(endpoint.get())) {
            throw ApiException.invalid("endpoint", "no endpoint named '" + endpoint.get() + "'");
        }
        Optional<String> status = param(ctx, "status");
        if (status.isPresent() && !STATUSES.contains(status.get())) {
            throw ApiException.invalid("status", "status must be one of pending, delivered, failed");
        }
        int limit = param(ctx, "limit").map(l -> number(l, "limit", 1, MAX_LIMIT)).orElse(100L).intValue();
        Optional<Long> before = param(ctx, "before").map(b -> number(b, "before", 1, Long.MAX_VALUE));
        notifications.outbox().deliveries(endpoint, status, before, limit).onSuccess(list -> {
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
        notifications.outbox().endpointOf(id).compose(endpoint -> {
            if (endpoint.isEmpty()) {
                return Future.failedFuture(ApiException.notFound("id", "no delivery " + id));
            }
            if (!notifications.delivers(endpoint.get())) {
                return Future.failedFuture(new ApiException(409, "EndpointInactive", "endpoint '" + endpoint.get()
                        + "' is disabled or no longer configured: nothing would deliver it", "id"));
            }
            return notifications.outbox().redeliver(id);
        }).onSuccess(endpoint -> {
            ctx.response().setStatusCode(202);
            json(ctx, new JsonObject().put("id", id).put("endpoint", endpoint.orElse(null)).put("status", Delivery.PENDING));
        }).onFailure(ctx::fail);
    }

    /** A query parameter; an empty one counts as absent ({@code ?endpoint=&status=failed}). */
    private static Optional<String> param(RoutingContext ctx, String name) {
        return Optional.ofNullable(ctx.request().getParam(name)).filter(v -> !v.isEmpty());
    }

    private static long number(String text, String field, long min, long max) {
        try {
            long n = Long.parseLong(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.invalid(field, field + " must be a number from " + min + " to " + max);
    }

    /** An endpoint URL without what may be a secret: user info and the query (and any fragment). */
    static String redacted(String url) {
        try {
            URI u = new URI(url);
            String authority = u.getRawAuthority();
            if (u.getScheme() == null || authority == null) {
                return "(unparsable URL)";
            }
            String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
            return u.getScheme() + "://" + hostPort + (u.getRawPath() == null ? "" : u.getRawPath())
                    + (u.getRawQuery() == null ? "" : "?…");
        } catch (URISyntaxException e) {
            return "(unparsable URL)";
        }
    }

    private static String time(long epochMillis) {
        return epochMillis <= 0 ? null : Instant.ofEpochMilli(epochMillis).toString();
    }

    private static void json(RoutingContext ctx, JsonObject body) {
        ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
    }
}
