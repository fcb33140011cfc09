package dev.berth.auth;

import dev.berth.config.BerthConfig.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The built-in token server of Docker's token authentication, at {@value #PATH}:
 * <ul>
 *   <li>{@code GET} with optional basic authentication, {@code service}, any number of
 *       {@code scope}, and {@code offline_token=true} for a refresh token;</li>
 *   <li>{@code POST} in the OAuth2 form {@code docker login} uses: {@code grant_type=password}
 *       (with {@code username}, {@code password}, and {@code access_type=offline} for a refresh
 *       token) or {@code grant_type=refresh_token}.</li>
 * </ul>
 * The answer is an ES256 JWT whose {@code access} claim lists each requested resource with the
 * actions granted on it: the intersection of what was asked and what the rules allow (possibly
 * none; anonymous clients get a token too, with what anonymous pulls allow). Wrong credentials get
 * {@code 401}. Logins (tokens for a signed-in user) and refused ones go to the audit log.
 */
public final class TokenEndpoint {
    public static final String PATH = "/auth/token";

    private final Authenticator authenticator;
    private final AccessControl access;
    private final AuthConfig config;
    private final AuditLog audit;

    public TokenEndpoint(Authenticator authenticator, AccessControl access, AuthConfig config, AuditLog audit) {
        this.authenticator = authenticator;
        this.access = access;
        this.config = config;
        this.audit = audit;
    }

    public void mount(Router router) {
        router.route(HttpMethod.GET, PATH).handler(this::get);
        router.route(HttpMethod.POST, PATH).handler(BodyHandler.create(false).setBodyLimit(64 * 1024)).handler(this::post);
    }

    private void get(RoutingContext ctx) {
        MultiMap params = ctx.request().params();
        if (!serviceMatches(ctx, params.get("service"))) {
            return;
        }
        List<Scope> scopes = Scope.parseAll(params.getAll("scope"));
        if (!scopesWithinLimit(ctx, scopes)) {
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        Authenticator.BasicCredentials basic = Authenticator.BasicCredentials.parse(header);
        // Credentials are a password (or a CI token, as password or bearer), never a token this
        // endpoint issued: an access token must not buy a fresh one, or access would outlive
        // a removed user, a revoked CI token or an expired pull credential.
        Future<Principal> who = header == null || header.isBlank() ? Future.succeededFuture(Principal.ANONYMOUS)
                : basic != null ? authenticator.password(basic.user(), basic.password())
                : header.regionMatches(true, 0, "Bearer " + CiTokens.PREFIX, 0, 7 + CiTokens.PREFIX.length())
                        ? authenticator.authenticate(header)
                        : Future.failedFuture(new Authenticator.AuthenticationException(null,
                                "the token endpoint takes a user name and password (or a CI token), not a token"));
        boolean offline = "true".equalsIgnoreCase(params.get("offline_token"));
        who.onComplete(ar -> answer(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), scopes, offline, "get", false));
    }

    private void post(RoutingContext ctx) {
        MultiMap form = ctx.request().formAttributes();
        if (!serviceMatches(ctx, form.get("service"))) {
            return;
        }
        List<Scope> scopes = Scope.parseAll(form.getAll("scope"));
        if (!scopesWithinLimit(ctx, scopes)) {
            return;
        }
        String grant = form.get("grant_type");
        Future<Principal> who;
        boolean offline = "offline".equals(form.get("access_type"));
        if ("password".equals(grant)) {
            who = authenticator.password(form.get("username"), form.get("password"));
        } else if ("refresh_token".equals(grant)) {
            String refresh = form.get("refresh_token");
            who = refresh == null ? Future.failedFuture(new Authenticator.AuthenticationException(null,
                    "refresh_token is required")) : authenticator.refresh(refresh);
        } else {
            ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("error", "unsupported_grant_type")
                            .put("error_description", "grant_type must be password or refresh_token").encode());
            return;
        }
        who.onComplete(ar -> answer(ctx, ar.succeeded() ? ar.result() : null, ar.cause(), scopes,
                offline || "refresh_token".equals(grant), "refresh_token".equals(grant) ? "refresh_token" : "password",
                true));
    }

    /** At most {@value #MAX_SCOPES} scopes per token: clients ask for one or two repositories at a time. */
    static final int MAX_SCOPES = 32;

    private static boolean scopesWithinLimit(RoutingContext ctx, List<Scope> scopes) {
        if (scopes.size() <= MAX_SCOPES) {
            return true;
        }
        error(ctx, 400, "UNSUPPORTED", "at most " + MAX_SCOPES + " scopes per token request (got " + scopes.size() + ")");
        return false;
    }

    private boolean serviceMatches(RoutingContext ctx, String service) {
        if (service == null || service.equals(config.service())) {
            return true;
        }
        error(ctx, 400, "UNSUPPORTED", "this token server issues tokens for service " + config.service() + ", not "
                + service);
        return false;
    }

    private void answer(RoutingContext ctx, Principal p, Throwable failure, List<Scope> scopes, boolean refresh,
                        String grant, boolean oauth) {
        if (p == null) {
            AuditHandler.loginRefused(audit, ctx.request(), failure,
                    new JsonObject().put("grant", grant).put("scopes", scopeList(scopes)));
            ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"" + config.service() + "\"");
            error(ctx, 401, "UNAUTHORIZED", failure.getMessage());
            return;
        }
        List<Principal.Grant> grants = new ArrayList<>();
        for (Scope s : scopes) {
            grants.add(grant(p, s));
        }
        String subject = p.anonymous() ? "" : p.name();
        String token = authenticator.tokens().issueAccess(subject, grants, config.tokenTtl());
        JsonObject body = new JsonObject().put("token", token).put("access_token", token)
                .put("expires_in", config.tokenTtl().toSeconds()).put("issued_at", Instant.now().toString());
        if (refresh && p.kind() == Principal.Kind.USER) {
            body.put("refresh_token", authenticator.tokens().issueRefresh(p.name(),
                    authenticator.users().passwordStamp(p.name()), config.refreshTtl()));
        }
        if (oauth) {
            body.put("scope", String.join(" ", grants.stream().filter(g -> !g.actions().isEmpty())
                    .map(g -> g.type() + ":" + g.name() + ":" + String.join(",", g.actions().stream().sorted().toList()))
                    .toList()));
        }
        if (!p.anonymous()) {
            JsonArray granted = new JsonArray();
            grants.forEach(g -> granted.add(g.type() + ":" + g.name() + ":" + String.join(",",
                    g.actions().stream().sorted().toList())));
            audit.record("auth.login", "ok", p.actor(), AuditHandler.remote(ctx.request()),
                    new JsonObject().put("grant", grant).put("scopes", scopeList(scopes)).put("granted", granted));
        }
        ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
                .end(body.encode());
    }

    /** What {@code p} gets of {@code s}: the requested actions it may do (possibly none). */
    private Principal.Grant grant(Principal p, Scope s) {
        if (s.type().equals("registry") && s.name().equals("catalog")) {
            return new Principal.Grant("registry", "catalog", access.catalog(p) && s.actions().contains("*")
                    ? Set.of("*") : Set.of());
        }
        if (!s.type().equals("repository") || !dev.berth.registry.RepositoryName.isValid(s.name())) {
            // Nothing for other resources, nor for names no repository can have (escapes, traversal).
            return new Principal.Grant(s.type(), s.name(), Set.of());
        }
        Set<String> asked = s.actions().contains("*") ? AccessControl.ALL : s.actions();
        Set<String> granted = new HashSet<>(access.allowed(p, s.name()));
        granted.retainAll(asked);
        return new Principal.Grant("repository", s.name(), granted);
    }

    private static JsonArray scopeList(List<Scope> scopes) {
        JsonArray a = new JsonArray();
        scopes.forEach(s -> a.add(s.toString()));
        return a;
    }

    private static void error(RoutingContext ctx, int status, String code, String message) {
        JsonObject error = new JsonObject().put("code", code).put("message", message);
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .putHeader("Docker-Distribution-API-Version", "registry/2.0")
                .end(new JsonObject().put("errors", new JsonArray().add(error)).encode());
    }
}
