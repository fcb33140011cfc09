package dev.berth.auth;

import dev.berth.registry.api.ErrorCode;
import dev.berth.registry.api.RegistryException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Guards {@code /v2/}: works out what a request needs (pull, push or delete on its repository, the
 * catalog, or just a signed-in client for {@code GET /v2/}), who sent it, and lets it on or answers:
 * <ul>
 *   <li>{@code 401 UNAUTHORIZED} with a challenge when it came without (valid) credentials:
 *       {@code Bearer realm=...,service=...,scope=...} in token mode, {@code Basic realm=...} in basic mode;
 *       a bearer token that was issued without this resource gets the challenge too, with
 *       {@code error="insufficient_scope"}, so that clients fetch one that covers it;</li>
 *   <li>{@code 403 DENIED} when whoever it is, signed in, may not do it.</li>
 * </ul>
 * A cross-repository mount needs pull on its source; without it the mount is not attempted and the
 * client gets an ordinary upload session (the spec's fallback), so a digest alone never opens
 * another repository's content. For the same reason a mount without {@code from} only mounts for admins.
 */
public final class RegistryAuthHandler implements Handler<RoutingContext> {
    /** Set on the routing context when a requested mount must fall back to an upload session. */
    public static final String NO_MOUNT = "berth.noMount";

    private static final String NAME = "/v2/(?<name>.+)";
    private static final Pattern BASE = Pattern.compile("/v2/?");
    private static final Pattern CATALOG = Pattern.compile("/v2/_catalog");
    private static final Pattern TAGS = Pattern.compile(NAME + "/tags/list");
    private static final Pattern MANIFEST = Pattern.compile(NAME + "/manifests/[^/]+");
    private static final Pattern UPLOAD = Pattern.compile(NAME + "/blobs/uploads(/[^/]*)?");
    private static final Pattern BLOB = Pattern.compile(NAME + "/blobs/[^/]+");
    private static final Pattern REFERRERS = Pattern.compile(NAME + "/referrers/[^/]+");

    private final Authenticator authenticator;
    private final AccessControl access;
    private final boolean tokenMode;
    private final String service;
    private final String realm;
    private final AuditLog audit;

    /**
     * @param tokenMode Docker token authentication (else basic)
     * @param realm the token endpoint's absolute URL, or empty to derive it from each request's host
     */
    public RegistryAuthHandler(Authenticator authenticator, AccessControl access, boolean tokenMode, String service,
                               String realm, AuditLog audit) {
        this.authenticator = authenticator;
        this.access = access;
        this.tokenMode = tokenMode;
        this.service = service;
        this.realm = realm;
        this.audit = audit;
    }

    /** What a request needs. */
    record Need(String repository, Set<String> actions, boolean catalog) {
        static final Need BASE_NEED = new Need(null, Set.of(), false);
        static final Need CATALOG_NEED = new Need(null, Set.of(), true);
    }

    /**
     * The repository a route will see: the router percent-decodes path parameters, so
     * {@code team%2Fapp} reaches the handlers as {@code team/app}; rules must judge that name.
     */
    static String decoded(String name) {
        if (name.indexOf('%') < 0) {
            return name;
        }
        try {
            return java.net.URLDecoder.decode(name.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return name; // malformed escapes: the route refuses the request
        }
    }

    /**
     * What {@code method} on {@code path} needs. Paths no route serves need a signed-in client (they
     * then get their 404): a path this mapping does not know is never open by default.
     */
    static Need need(HttpMethod method, String path) {
        if (BASE.matcher(path).matches()) {
            return Need.BASE_NEED;
        }
        if (CATALOG.matcher(path).matches()) {
            return Need.CATALOG_NEED;
        }
        boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD;
        Matcher m;
        if ((m = TAGS.matcher(path)).matches() || (m = REFERRERS.matcher(path)).matches()) {
            return new Need(decoded(m.group("name")), Set.of(AccessControl.PULL), false);
        }
        if ((m = MANIFEST.matcher(path)).matches()) {
            return new Need(decoded(m.group("name")), Set.of(read ? AccessControl.PULL
                    : method == HttpMethod.DELETE ? AccessControl.DELETE : AccessControl.PUSH), false);
        }
        if ((m = UPLOAD.matcher(path)).matches()) {
            return new Need(decoded(m.group("name")), Set.of(AccessControl.PUSH), false);
        }
        if ((m = BLOB.matcher(path)).matches()) {
            return new Need(decoded(m.group("name")), Set.of(read ? AccessControl.PULL
                    : method == HttpMethod.DELETE ? AccessControl.DELETE : AccessControl.PUSH), false);
        }
        return Need.BASE_NEED;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        // The path routes are matched on (dot segments resolved), never the raw one; names are
        // judged decoded, as the routes see them (see decoded).
        Need need = need(request.method(), ctx.normalizedPath());
        Future<Principal> who = authenticator.authenticate(request.getHeader("Authorization"));
        Authenticator.whenDone(request, who, ar -> {
            if (ar.failed()) {
                AuditHandler.loginRefused(audit, request, ar.cause(), new io.vertx.core.json.JsonObject()
                        .put("method", request.method().name()).put("path", ctx.normalizedPath()));
                ctx.fail(challenge(ctx, need, ar.cause().getMessage(), "invalid_token"));
                return;
            }
            decide(ctx, need, ar.result());
        });
    }

    private void decide(RoutingContext ctx, Need need, Principal p) {
        ctx.put(Authenticator.PRINCIPAL, p);
        if (need.catalog()) {
            if (access.catalog(p)) {
                ctx.next();
            } else if (p.anonymous() || anonymousToken(p)
                    || (p.kind() == Principal.Kind.BEARER && !mentions(p, "registry", "catalog"))) {
                ctx.fail(challenge(ctx, need, "authentication required", p.anonymous() ? null : "insufficient_scope"));
            } else {
                ctx.fail(denied(need));
            }
            return;
        }
        if (need.repository() == null) {
            // GET /v2/: any valid credentials (an anonymous bearer token too); without any, the challenge.
            if (p.anonymous()) {
                ctx.fail(challenge(ctx, need, "authentication required", null));
            } else {
                ctx.next();
            }
            return;
        }
        Set<String> allowed = access.allowed(p, need.repository());
        if (!allowed.containsAll(need.actions())) {
            if (p.anonymous() || anonymousToken(p)
                    || (p.kind() == Principal.Kind.BEARER && !mentions(p, "repository", need.repository()))) {
                ctx.fail(challenge(ctx, need, "authentication required", p.anonymous() ? null : "insufficient_scope"));
            } else {
                ctx.fail(denied(need));
            }
            return;
        }
        String mount = ctx.request().method() == HttpMethod.POST ? ctx.request().getParam("mount") : null;
        if (mount != null) {
            String from = ctx.request().getParam("from");
            boolean may = from == null ? p.kind() == Principal.Kind.USER && access.isAdmin(p.name(), p.groups())
                    : access.allowed(p, from).contains(AccessControl.PULL);
            if (!may) {
                ctx.put(NO_MOUNT, Boolean.TRUE);
            }
        }
        ctx.next();
    }

    /**
     * Whether {@code p} is a token the endpoint gave a client without credentials: what it lacks,
     * signing in might give, so the answer is the challenge (401), as for no token at all.
     */
    private static boolean anonymousToken(Principal p) {
        return p.kind() == Principal.Kind.BEARER && (p.name() == null || p.name().isEmpty());
    }

    /** Whether a bearer token was issued with an entry for this resource (granted or not). */
    private static boolean mentions(Principal p, String type, String name) {
        return p.grants() != null && p.grants().stream().anyMatch(g -> g.type().equals(type) && g.name().equals(name));
    }

    private static RegistryException denied(Need need) {
        return new RegistryException(ErrorCode.DENIED, ErrorCode.DENIED.message(), detail(need));
    }

    private RegistryException challenge(RoutingContext ctx, Need need, String message, String error) {
        String header;
        if (tokenMode) {
            StringBuilder b = new StringBuilder("Bearer realm=\"").append(realm(ctx)).append("\",service=\"")
                    .append(service).append('"');
            String scope = scope(need);
            if (scope != null) {
                b.append(",scope=\"").append(scope).append('"');
            }
            if (error != null) {
                b.append(",error=\"").append(error).append('"');
            }
            header = b.toString();
        } else {
            header = "Basic realm=\"" + service + "\"";
        }
        return new RegistryException(ErrorCode.UNAUTHORIZED, message, detail(need)).header("WWW-Authenticate", header);
    }

    private static Object detail(Need need) {
        if (need.catalog()) {
            return List.of(Map.of("Type", "registry", "Class", "", "Name", "catalog", "Action", "*"));
        }
        if (need.repository() == null) {
            return null;
        }
        return need.actions().stream().sorted()
                .map(a -> Map.of("Type", "repository", "Class", "", "Name", need.repository(), "Action", a)).toList();
    }

    /** The scope a client should ask for: pushing also asks for pull, as Docker's clients do. */
    static String scope(Need need) {
        if (need.catalog()) {
            return "registry:catalog:*";
        }
        if (need.repository() == null) {
            return null;
        }
        Set<String> actions = new TreeSet<>(need.actions());
        if (actions.contains(AccessControl.PUSH)) {
            actions.add(AccessControl.PULL);
        }
        return "repository:" + need.repository() + ":" + String.join(",", actions);
    }

    /** The token endpoint: configured, or on the host and scheme this request came in on. */
    String realm(RoutingContext ctx) {
        if (!realm.isEmpty()) {
            return realm;
        }
        HostAndPort authority = ctx.request().authority();
        String host = authority == null ? "localhost" : authority.host()
                + (authority.port() > 0 ? ":" + authority.port() : "");
        return (ctx.request().isSSL() ? "https" : "http") + "://" + host + TokenEndpoint.PATH;
    }
}
