package dev.berth.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Turns what a request presents into a {@link Principal}:
 * <ul>
 *   <li>nothing: {@link Principal#ANONYMOUS};</li>
 *   <li>{@code Basic user:password}: a user's password (bcrypt, on a worker thread), a CI token
 *       ({@code bpt....}, whatever the user name), or a node's pull credential (a {@code pull} JWT);</li>
 *   <li>{@code Bearer}: an access token from the token endpoint, or a CI token.</li>
 * </ul>
 * Credentials that are present but wrong fail the future with {@link AuthenticationException};
 * they are never taken for anonymous.
 */
public final class Authenticator {
    /** Where a request's principal is kept on its routing context. */
    public static final String PRINCIPAL = "berth.principal";

    private final Users users;
    private final CiTokens ciTokens;
    private final TokenService tokens;

    /** Credentials that were presented and refused; the message says why (for logs and the audit). */
    public static final class AuthenticationException extends Exception {
        private final String user;

        public AuthenticationException(String user, String message) {
            super(message, null, false, false);
            this.user = user;
        }

        /** The user name the client gave, or null. */
        public String user() {
            return user;
        }
    }

    /**
     * Password checks (bcrypt, tens of milliseconds each) run on their own two threads, so that a
     * flood of sign-ins cannot hold up other blocking work; beyond this many waiting, a sign-in is
     * refused at once instead of queued.
     */
    static final int MAX_PENDING_BCRYPTS = 64;
    private final io.vertx.core.WorkerExecutor bcrypt;
    private final java.util.concurrent.atomic.AtomicInteger bcryptsPending = new java.util.concurrent.atomic.AtomicInteger();

    public Authenticator(Vertx vertx, Users users, CiTokens ciTokens, TokenService tokens) {
        this.bcrypt = vertx.createSharedWorkerExecutor("berth-bcrypt", 2);
        this.users = users;
        this.ciTokens = ciTokens;
        this.tokens = tokens;
    }

    public Users users() {
        return users;
    }

    public TokenService tokens() {
        return tokens;
    }

    /**
     * Calls {@code then} with the outcome of {@code who}: at once when it is already known (tokens,
     * anonymous), otherwise (bcrypt on a worker) once it is, with the request's body held back in
     * the meantime. Bodies of methods that have one stay paused for the handler that reads them
     * (it resumes them); the others are resumed.
     */
    public static void whenDone(io.vertx.core.http.HttpServerRequest request, Future<Principal> who,
                                io.vertx.core.Handler<io.vertx.core.AsyncResult<Principal>> then) {
        if (who.isComplete()) {
            then.handle(who);
            return;
        }
        boolean paused = !request.isEnded();
        if (paused) {
            request.pause();
        }
        who.onComplete(ar -> {
            io.vertx.core.http.HttpMethod m = request.method();
            if (paused && (m == io.vertx.core.http.HttpMethod.GET || m == io.vertx.core.http.HttpMethod.HEAD
                    || m == io.vertx.core.http.HttpMethod.DELETE)) {
                request.resume();
            }
            then.handle(ar);
        });
    }

    /** A user name and password from a {@code Basic} header; null when the header is not one. */
    public record BasicCredentials(String user, String password) {
        public static BasicCredentials parse(String authorization) {
            if (authorization == null || authorization.length() < 6
                    || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
                return null;
            }
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return new BasicCredentials(null, null);
            }
            int colon = decoded.indexOf(':');
            return colon < 0 ? new BasicCredentials(decoded, null)
                    : new BasicCredentials(decoded.substring(0, colon), decoded.substring(colon + 1));
        }
    }

    /** The principal behind an {@code Authorization} header (null or empty: anonymous). */
    public Future<Principal> authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return Future.succeededFuture(Principal.ANONYMOUS);
        }
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String token = authorization.substring(7).trim();
            if (CiTokens.looksLikeToken(token)) {
                Principal p = ciTokens.authenticate(token);
                return p != null ? Future.succeededFuture(p)
                        : Future.failedFuture(new AuthenticationException(null, "unknown, revoked or expired CI token"));
            }
            try {
                TokenService.Claims claims = tokens.verify(token, "access");
                return Future.succeededFuture(new Principal(Principal.Kind.BEARER, claims.subject(), null,
                        claims.access(), false, null));
            } catch (TokenService.InvalidTokenException e) {
                return Future.failedFuture(new AuthenticationException(null, e.getMessage()));
            }
        }
        BasicCredentials basic = BasicCredentials.parse(authorization);
        if (basic == null) {
            return Future.failedFuture(new AuthenticationException(null, "unsupported authorization scheme"));
        }
        return password(basic.user(), basic.password());
    }

    /** The principal a user name and password stand for (a CI token or pull credential may be the password). */
    public Future<Principal> password(String user, String password) {
        if (user == null || password == null || password.isEmpty()) {
            return Future.failedFuture(new AuthenticationException(user, "a user name and password are required"));
        }
        if (CiTokens.looksLikeToken(password)) {
            Principal p = ciTokens.authenticate(password);
            return p != null ? Future.succeededFuture(p)
                    : Future.failedFuture(new AuthenticationException(user, "unknown, revoked or expired CI token"));
        }
        if (password.startsWith("eyJ") && password.chars().filter(ch -> ch == '.').count() == 2) {
            try {
                TokenService.Claims claims = tokens.verify(password, "pull");
                return Future.succeededFuture(new Principal(Principal.Kind.AGENT, "agent:" + claims.subject(), null,
                        claims.access(), false, null));
            } catch (TokenService.InvalidTokenException e) {
                return Future.failedFuture(new AuthenticationException(user, "pull credential refused: " + e.getMessage()));
            }
        }
        if (users.verifiedRecently(user, password)) {
            // The common case of basic authentication: the same client, the same password, again.
            return Future.succeededFuture(Principal.user(user, users.groupsOf(user)));
        }
        if (bcryptsPending.incrementAndGet() > MAX_PENDING_BCRYPTS) {
            bcryptsPending.decrementAndGet();
            return Future.failedFuture(new AuthenticationException(user,
                    "too many sign-ins in progress; try again in a moment"));
        }
        return bcrypt.executeBlocking(() -> users.verify(user, password), false).andThen(ar -> bcryptsPending.decrementAndGet())
                .compose(ok -> ok ? Future.succeededFuture(Principal.user(user, users.groupsOf(user)))
                        : Future.failedFuture(new AuthenticationException(user, "wrong user name or password")));
    }

    /**
     * The user a refresh token names, if it is valid and the user's password has not changed since
     * it was issued.
     */
    public Future<Principal> refresh(String refreshToken) {
        try {
            TokenService.Claims claims = tokens.verify(refreshToken, "refresh");
            String stamp = users.passwordStamp(claims.subject());
            if (stamp == null || !stamp.equals(claims.stamp())) {
                return Future.failedFuture(new AuthenticationException(claims.subject(),
                        "the refresh token is no longer valid (password changed or user removed)"));
            }
            return Future.succeededFuture(Principal.user(claims.subject(), users.groupsOf(claims.subject())));
        } catch (TokenService.InvalidTokenException e) {
            return Future.failedFuture(new AuthenticationException(null, "refresh token refused: " + e.getMessage()));
        }
    }
}
