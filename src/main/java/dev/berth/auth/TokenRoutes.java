package dev.berth.auth;

import dev.berth.api.ApiException;
import dev.berth.config.Durations;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code /api/tokens}: CI tokens of the signed-in user (an admin sees and revokes everyone's).
 * <ul>
 *   <li>{@code POST /api/tokens} {@code {name, repositories:[glob...], actions:[pull|push|delete],
 *       api, expiresIn}}: makes one and answers its secret, once;</li>
 *   <li>{@code GET /api/tokens}: lists them (never their secrets);</li>
 *   <li>{@code DELETE /api/tokens/ID}: revokes one.</li>
 * </ul>
 */
public final class TokenRoutes {
    private final CiTokens tokens;
    private final AccessControl access;
    private final boolean enabled;
    private final Clock clock;

    public TokenRoutes(CiTokens tokens, AccessControl access, boolean enabled, Clock clock) {
        this.tokens = tokens;
        this.access = access;
        this.enabled = enabled;
        this.clock = clock;
    }

    public void mount(Router router) {
        router.route("/api/tokens*").handler(ctx -> {
            if (!enabled) {
                ctx.fail(new ApiException(409, "AuthDisabledException",
                        "auth.mode is none: there are no users, so no CI tokens", null));
            } else {
                ctx.next();
            }
        });
        router.route(HttpMethod.POST, "/api/tokens").handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
                .handler(this::create);
        router.route(HttpMethod.GET, "/api/tokens").handler(this::list);
        router.route(HttpMethod.DELETE, "/api/tokens/:id").handler(this::revoke);
    }

    private Principal caller(RoutingContext ctx) {
        return ctx.get(Authenticator.PRINCIPAL);
    }

    private boolean admin(Principal p) {
        return p.kind() == Principal.Kind.USER && access.isAdmin(p.name(), p.groups());
    }

    private void create(RoutingContext ctx) {
        Principal p = caller(ctx);
        Buffer b = ctx.body().buffer();
        JsonObject request;
        try {
            request = b == null || b.length() == 0 ? new JsonObject() : new JsonObject(b);
        } catch (RuntimeException e) {
            ctx.fail(ApiException.invalid(null, "the request body must be a JSON object"));
            return;
        }
        String name;
        List<String> repositories = new ArrayList<>();
        Set<String> actions = new LinkedHashSet<>();
        boolean api;
        Instant expiresAt = null;
        try {
            name = request.getValue("name") == null ? "token" : request.getString("name");
            if (name.isBlank() || name.length() > 64 || !name.matches("[A-Za-z0-9._@ -]+")) {
                throw ApiException.invalid("name", "name: 1 to 64 letters, digits, spaces, '.', '_', '@' or '-'");
            }
            JsonArray repos = request.getValue("repositories") == null ? new JsonArray() : request.getJsonArray("repositories");
            for (int i = 0; i < repos.size(); i++) {
                String glob = repos.getValue(i) instanceof String s ? s : null;
                try {
                    RepositoryGlob.of(glob);
                } catch (IllegalArgumentException e) {
                    throw ApiException.invalid("repositories[" + i + "]", e.getMessage());
                }
                repositories.add(glob);
            }
            JsonArray acts = request.getValue("actions") == null ? new JsonArray() : request.getJsonArray("actions");
            for (int i = 0; i < acts.size(); i++) {
                Object a = acts.getValue(i);
                if (!(a instanceof String s) || !AccessControl.ALL.contains(s)) {
                    throw ApiException.invalid("actions[" + i + "]", "actions are pull, push or delete (got " + a + ")");
                }
                actions.add(s);
            }
            api = Boolean.TRUE.equals(request.getValue("api") instanceof Boolean x ? x : null);
            if (request.getValue("api") != null && !(request.getValue("api") instanceof Boolean)) {
                throw ApiException.invalid("api", "api must be true or false");
            }
            if (repositories.isEmpty() != actions.isEmpty()) {
                throw ApiException.invalid(repositories.isEmpty() ? "repositories" : "actions",
                        "repositories and actions go together: the token may do these actions on those repositories");
            }
            if (repositories.isEmpty() && !api) {
                throw ApiException.invalid("repositories", "a token needs repositories and actions, or api: true");
            }
            if (api && !admin(p)) {
                throw new ApiException(403, "AccessDeniedException", "only admins may make tokens for the API", "api");
            }
            if (request.getValue("expiresIn") != null) {
                Duration d;
                try {
                    d = Durations.parse(String.valueOf(request.getValue("expiresIn")));
                } catch (IllegalArgumentException e) {
                    throw ApiException.invalid("expiresIn", "expiresIn: " + e.getMessage());
                }
                if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofDays(3660)) > 0) {
                    throw ApiException.invalid("expiresIn", "expiresIn must be between 1s and 3660d");
                }
                expiresAt = clock.instant().plus(d);
            }
        } catch (ApiException e) {
            ctx.fail(e);
            return;
        } catch (ClassCastException e) {
            ctx.fail(ApiException.invalid(null, "repositories and actions must be arrays of strings, name a string"));
            return;
        }
        tokens.create(p.name(), name, repositories, actions, api, expiresAt).onSuccess(created ->
                ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
                        .end(describe(created.token()).put("token", created.secret()).encode()))
                .onFailure(ctx::fail);
    }

    private void list(RoutingContext ctx) {
        Principal p = caller(ctx);
        JsonArray out = new JsonArray();
        for (CiTokens.CiToken t : tokens.list()) {
            if (admin(p) || t.owner().equals(p.name())) {
                out.add(describe(t));
            }
        }
        ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("tokens", out).encode());
    }

    private void revoke(RoutingContext ctx) {
        Principal p = caller(ctx);
        CiTokens.CiToken t = tokens.get(ctx.pathParam("id"));
        if (t == null || !(admin(p) || t.owner().equals(p.name()))) {
            ctx.fail(new ApiException(404, "TokenNotFoundException", "no token " + ctx.pathParam("id"), "id"));
            return;
        }
        tokens.revoke(t.id()).onSuccess(v -> ctx.response().putHeader("Content-Type", "application/json")
                .end(describe(t).put("revoked", true).encode())).onFailure(ctx::fail);
    }

    private static JsonObject describe(CiTokens.CiToken t) {
        return new JsonObject().put("id", t.id()).put("name", t.name()).put("owner", t.owner())
                .put("repositories", new JsonArray(t.repositories()))
                .put("actions", new JsonArray(t.actions().stream().sorted().toList())).put("api", t.api())
                .put("createdAt", t.createdAt().toString())
                .put("expiresAt", t.expiresAt() == null ? null : t.expiresAt().toString());
    }
}
