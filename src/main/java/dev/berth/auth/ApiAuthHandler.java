package dev.berth.auth;

import dev.berth.api.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Guards the control-plane API ({@code /api/}) and {@code /metrics}: they need an admin's
 * credentials (basic authentication) or a CI token made for the API by an admin ({@code Bearer
 * bpt....} or as the basic password). {@code /api/tokens} is open to every signed-in user for
 * their own tokens. Three endpoints have their own proof and pass through: agent registration (a
 * join token), the agent session (its agent token and client certificate) and the registry hook
 * (an HMAC signature).
 */
public final class ApiAuthHandler implements Handler<RoutingContext> {
    private final Authenticator authenticator;
    private final AccessControl access;
    private final String realm;
    private final AuditLog audit;

    public ApiAuthHandler(Authenticator authenticator, AccessControl access, String realm, AuditLog audit) {
        this.authenticator = authenticator;
        this.access = access;
        this.realm = realm;
        this.audit = audit;
    }

    /** Endpoints that authenticate their callers themselves. */
    static boolean ownProof(HttpMethod method, String path) {
        return (method == HttpMethod.POST && (path.equals("/api/agents/register") || path.equals("/api/hooks/registry")))
                || (method == HttpMethod.GET && path.equals("/api/agents/connect"));
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        // The path routes are matched on (dot segments resolved), never the raw one.
        String path = ctx.normalizedPath();
        if (ownProof(request.method(), path)) {
            ctx.next();
            return;
        }
        boolean tokens = path.equals("/api/tokens") || path.startsWith("/api/tokens/");
        Authenticator.whenDone(request, authenticator.authenticate(request.getHeader("Authorization")), ar -> {
            if (ar.failed()) {
                AuditHandler.loginRefused(audit, request, ar.cause(),
                        new JsonObject().put("method", request.method().name()).put("path", path));
                refuse(ctx, new ApiException(401, "UnauthorizedException", ar.cause().getMessage(), null));
                return;
            }
            Principal p = ar.result();
            ctx.put(Authenticator.PRINCIPAL, p);
            if (p.anonymous()) {
                refuse(ctx, new ApiException(401, "UnauthorizedException",
                        "authentication required: an admin's user name and password, or a CI token made for the API", null));
            } else if (tokens ? p.kind() == Principal.Kind.USER : access.api(p)) {
                ctx.next();
            } else {
                refuse(ctx, new ApiException(403, "AccessDeniedException", tokens
                        ? "CI tokens are managed with a user's own password"
                        : p.name() + " may not use the control-plane API (admins and CI tokens made for it only)", null));
            }
        });
    }

    private void refuse(RoutingContext ctx, ApiException e) {
        if (e.status() == 401) {
            ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
        }
        if (ctx.normalizedPath().startsWith("/api/")) {
            ctx.fail(e);
            return;
        }
        ctx.response().setStatusCode(e.status()).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", new JsonObject().put("code", e.code()).put("message", e.getMessage()))
                        .encode());
    }
}
