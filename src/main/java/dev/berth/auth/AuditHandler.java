package dev.berth.auth;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts every change into the {@link AuditLog} once its answer is sent, refused ones included:
 * manifest pushes, deletes of manifests, tags and blobs, control-plane actions that change
 * something ({@code POST /api/<Action>} other than Describe, List and Get), agent registrations, the
 * registry hook, webhook redeliveries, mirror evictions, and CI tokens made and revoked. Reads are
 * not audited, nor blob uploads (the manifest push that follows names what they were for). The
 * actor is the signed-in user ({@code anonymous} without authentication); the remote address says
 * where the request came from. Logins are recorded where they happen (token endpoint, refused
 * credentials).
 */
public final class AuditHandler implements Handler<RoutingContext> {
    private static final Pattern MANIFEST = Pattern.compile("/v2/(?<name>.+)/manifests/(?<ref>[^/]+)");
    private static final Pattern BLOB = Pattern.compile("/v2/(?<name>.+)/blobs/(?<digest>[^/]+)");
    private static final Pattern ACTION = Pattern.compile("/api/(?<action>[A-Z][A-Za-z]{1,63})");
    /** Request fields that say what a control-plane action was about (never its secrets). */
    private static final List<String> TARGET_FIELDS = List.of("cluster", "service", "serviceName", "family",
            "taskDefinition", "task", "tasks", "containerInstances", "desiredCount", "status", "reason");

    private final AuditLog log;

    public AuditHandler(AuditLog log) {
        this.log = log;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpMethod method = ctx.request().method();
        String path = ctx.normalizedPath();
        // Only what can be audited waits for its end: reads and upload requests (the bulk of the
        // traffic) pass straight on.
        boolean candidate = method == HttpMethod.POST ? path.startsWith("/api/")
                : (method == HttpMethod.PUT || method == HttpMethod.DELETE) && !path.contains("/blobs/uploads/");
        if (candidate) {
            ctx.addEndHandler(ar -> record(ctx));
        }
        ctx.next();
    }

    private void record(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String path = ctx.normalizedPath();
        HttpMethod method = request.method();
        int status = ctx.response().getStatusCode();
        JsonObject details = new JsonObject().put("method", method.name()).put("path", path).put("status", status);
        String action = action(ctx, method, path, details);
        if (action == null) {
            return;
        }
        String outcome = !ctx.response().ended() ? "aborted" : status / 100 == 2 ? "ok" : "refused";
        Principal p = ctx.get(Authenticator.PRINCIPAL);
        log.record(action, outcome, p == null ? "anonymous" : p.actor(), remote(request), details);
    }

    /**
     * Records a refused sign-in ({@code auth.login}, refused): who it claimed to be (when the failure
     * says), from where, why, and what it was for.
     */
    static void loginRefused(AuditLog log, HttpServerRequest request, Throwable cause, JsonObject details) {
        String user = cause instanceof Authenticator.AuthenticationException ae ? ae.user() : null;
        log.record("auth.login", "refused", user == null ? "unknown" : user, remote(request),
                details.put("reason", cause.getMessage()));
    }

    /** The client's address and port, as the audit log records it. */
    public static String remote(HttpServerRequest request) {
        SocketAddress remote = request.remoteAddress();
        return remote == null ? "" : remote.hostAddress() + ":" + remote.port();
    }

    /** The audited action a request is, with what it was about added to {@code details}; null when not audited. */
    private static String action(RoutingContext ctx, HttpMethod method, String path, JsonObject details) {
        Matcher m = MANIFEST.matcher(path);
        if (m.matches() && (method == HttpMethod.PUT || method == HttpMethod.DELETE)) {
            details.put("repository", m.group("name")).put("reference", m.group("ref"));
            String digest = ctx.response().headers().get("Docker-Content-Digest");
            if (digest != null) {
                details.put("digest", digest);
            }
            List<String> tags = ctx.request().params().getAll("tag");
            if (!tags.isEmpty()) {
                details.put("tags", new JsonArray(tags));
            }
            return method == HttpMethod.PUT ? "registry.push" : "registry.delete";
        }
        m = BLOB.matcher(path);
        if (m.matches() && method == HttpMethod.DELETE && !m.group("digest").equals("uploads")) {
            details.put("repository", m.group("name")).put("blob", m.group("digest"));
            return "registry.delete";
        }
        if (path.startsWith("/api/tokens")) {
            if (method == HttpMethod.POST && path.equals("/api/tokens")) {
                JsonObject body = body(ctx);
                if (body != null) {
                    for (String field : List.of("name", "repositories", "actions", "api", "expiresIn")) {
                        Object value = body.getValue(field);
                        if (value instanceof String || value instanceof Boolean || value instanceof JsonArray) {
                            details.put(field, value);
                        }
                    }
                }
                return "auth.token.create";
            }
            if (method == HttpMethod.DELETE && path.startsWith("/api/tokens/")) {
                details.put("token", path.substring("/api/tokens/".length()));
                return "auth.token.revoke";
            }
            return null;
        }
        if (method != HttpMethod.POST) {
            return null;
        }
        switch (path) {
            case "/api/agents/register" -> {
                JsonObject body = body(ctx);
                if (body != null && body.getValue("hostname") instanceof String host) {
                    details.put("hostname", host);
                }
                return "agent.register";
            }
            case "/api/hooks/registry" -> {
                return "controlplane.hook";
            }
            case "/api/mirror/evict" -> {
                return "mirror.evict";
            }
            default -> {
                // below
            }
        }
        if (path.startsWith("/api/webhooks/deliveries/") && path.endsWith("/redeliver")) {
            return "webhook.redeliver";
        }
        m = ACTION.matcher(path);
        if (m.matches()) {
            String name = m.group("action");
            if (name.startsWith("Describe") || name.startsWith("List") || name.startsWith("Get")) {
                return null;
            }
            JsonObject body = body(ctx);
            if (body != null) {
                for (String field : TARGET_FIELDS) {
                    Object value = body.getValue(field);
                    if (value instanceof String || value instanceof Number || value instanceof Boolean
                            || value instanceof JsonArray) {
                        details.put(field, value);
                    }
                }
            }
            return "controlplane." + name;
        }
        return null;
    }

    /** The request body as JSON when a body handler read it and it is an object; null otherwise. */
    private static JsonObject body(RoutingContext ctx) {
        try {
            Buffer b = ctx.body() == null ? null : ctx.body().buffer();
            return b == null || b.length() == 0 ? null : new JsonObject(b);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
