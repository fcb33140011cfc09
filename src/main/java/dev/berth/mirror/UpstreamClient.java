package dev.berth.mirror;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads from one upstream registry over its HTTP API. Authentication follows the upstream's
 * challenge: none, HTTP basic with the configured credentials, or Docker token auth (the
 * {@code 401 Bearer realm=…,service=…,scope=…} challenge is answered by fetching a token from the
 * realm, with the credentials when there are some; tokens are cached per scope until shortly
 * before they expire, and concurrent requests share one fetch). A fixed bearer token can be
 * configured instead. Redirects (blobs served from a CDN or a presigned S3 URL) are followed, and
 * credentials are never sent to another origin.
 *
 * <p>Only GET and HEAD are sent. Responses come back paused with their body unread, so that no
 * byte is lost before the caller is ready: pipe it somewhere (which resumes it), or use
 * {@link #readBody}.
 */
public final class UpstreamClient implements AutoCloseable {
    private static final int MAX_REDIRECTS = 5;
    /** Tokens are renewed this long before they expire. */
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(10);
    /** What the token spec says a token without {@code expires_in} lasts. */
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
    private static final long MAX_TOKEN_RESPONSE = 1 << 20;

    /**
     * @param name     the upstream's name (logs, errors)
     * @param url      its base URL, e.g. {@code https://registry-1.docker.io}
     * @param username basic credentials (also sent to the token realm), or empty
     * @param password goes with {@code username}
     * @param token    a fixed bearer token instead of challenges, or empty
     * @param timeout  connecting, and silence on an open connection
     */
    public record Options(String name, URI url, String username, String password, String token, Duration timeout) {
        public Options {
            Objects.requireNonNull(name);
            Objects.requireNonNull(url);
            username = username == null ? "" : username;
            password = password == null ? "" : password;
            token = token == null ? "" : token;
            timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
        }
    }

    private record TokenKey(String realm, String service, String scope) {
    }

    private record Token(String value, Instant expires) {
    }

    private final Options options;
    private final HttpClient http;
    private final Clock clock;
    private final String origin;
    /** Tokens by the repository they were fetched for (one client talks to one upstream, one realm). */
    private final Map<String, Future<Token>> tokens = new ConcurrentHashMap<>();
    private final AtomicLong tokenFetches = new AtomicLong();
    /** Set once the upstream asked for basic auth: from then on credentials go with every request. */
    private volatile boolean basicWanted;

    public UpstreamClient(Vertx vertx, Options options) {
        this(vertx, options, Clock.systemUTC());
    }

    UpstreamClient(Vertx vertx, Options options, Clock clock) {
        this.options = options;
        this.clock = clock;
        this.origin = origin(options.url());
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, options.timeout().toMillis());
        this.http = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(true)
                .setConnectTimeout(timeoutMs)
                .setIdleTimeout(timeoutMs)
                .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                .setDecompressionSupported(false),
                new PoolOptions().setHttp1MaxSize(32));
    }

    public String name() {
        return options.name();
    }

    /** Most bytes of a response body read whole (manifests and error answers; blobs are streamed). */
    public static final long MAX_BODY_BYTES = 4L << 20;

    /**
     * The whole body of a response from {@link #request} (for manifests and errors, not blobs), at
     * most {@value #MAX_BODY_BYTES} bytes: a larger one, announced or not, resets the request and
     * fails, so an upstream cannot make Berth buffer without bound.
     */
    public static Future<Buffer> readBody(HttpClientResponse response) {
        io.vertx.core.Promise<Buffer> done = io.vertx.core.Promise.promise();
        Buffer body = Buffer.buffer();
        response.handler(chunk -> {
            if (body.length() + (long) chunk.length() > MAX_BODY_BYTES) {
                response.handler(null);
                done.tryFail(new IllegalStateException("the upstream's answer is larger than " + MAX_BODY_BYTES + " bytes"));
                response.request().reset();
            } else {
                body.appendBuffer(chunk);
            }
        });
        response.exceptionHandler(done::tryFail);
        response.endHandler(v -> done.tryComplete(body));
        response.resume();
        return done.future();
    }

    /** Token requests made so far (each cache miss; concurrent requests share one). */
    public long tokenFetches() {
        return tokenFetches.get();
    }

    /**
     * {@code method} (GET or HEAD) of {@code path} (e.g. {@code /v2/library/alpine/manifests/latest})
     * in {@code repository}, with {@code accept} as the Accept header (all of it, so that the upstream
     * picks the same media type a direct client would get). Fails with {@link UpstreamException}
     * when the upstream cannot be reached or refuses us (401/403 after authenticating); other
     * statuses (200, 404...) are the caller's to read.
     */
    public Future<HttpClientResponse> request(HttpMethod method, String repository, String path, List<String> accept) {
        if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
            throw new IllegalArgumentException("only GET and HEAD go upstream");
        }
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        if (!accept.isEmpty()) {
            headers.set(HttpHeaders.ACCEPT, String.join(", ", accept));
        }
        headers.set(HttpHeaders.USER_AGENT, "berth-mirror");
        return attempt(method, repository, resolve(path), headers, null, 0);
    }

    /**
     * One request. {@code answered} is the Authorization that answers a challenge this request
     * already got (null before): a second 401 is then a refusal.
     */
    private Future<HttpClientResponse> attempt(HttpMethod method, String repository, String url, MultiMap headers,
                                               String answered, int redirects) {
        boolean ours = origin(URI.create(url)).equals(origin);
        boolean mayAuthenticate = answered == null;
        MultiMap sent = MultiMap.caseInsensitiveMultiMap().addAll(headers);
        Future<String> authorization = !ours ? Future.succeededFuture(null)
                : answered != null ? Future.succeededFuture(answered) : authorization(repository);
        return authorization.compose(auth -> {
            if (auth != null) {
                sent.set(HttpHeaders.AUTHORIZATION, auth);
            }
            RequestOptions ro = new RequestOptions().setMethod(method).setAbsoluteURI(url).setHeaders(sent)
                    .setFollowRedirects(false);
            return http.request(ro).compose(req -> req.send());
        }).recover(e -> Future.failedFuture(new UpstreamException(options.name(), 0,
                "no answer from " + url + ": " + describe(e), e))).compose(resp -> {
            int status = resp.statusCode();
            if (status == 401 && ours && mayAuthenticate) {
                String header = resp.getHeader("WWW-Authenticate");
                return resp.body().transform(ignored -> answerChallenge(header, repository))
                        .compose(auth -> attempt(method, repository, url, headers, auth, redirects));
            }
            if (status == 401 || status == 403) {
                return refused(resp, url);
            }
            String location = resp.getHeader(HttpHeaders.LOCATION);
            if (isRedirect(status) && location != null) {
                if (redirects >= MAX_REDIRECTS) {
                    return resp.body().transform(x -> Future.failedFuture(new UpstreamException(options.name(), status,
                            "more than " + MAX_REDIRECTS + " redirects from " + url, null)));
                }
                String next = URI.create(url).resolve(location).toString();
                return resp.body().transform(x -> attempt(method, repository, next, headers, answered, redirects + 1));
            }
            resp.pause();
            return Future.succeededFuture(resp);
        });
    }

    private Future<HttpClientResponse> refused(HttpClientResponse resp, String url) {
        int status = resp.statusCode();
        return resp.body().transform(body -> {
            String said = body.succeeded() ? body.result().toString(StandardCharsets.UTF_8) : "";
            if (said.length() > 300) {
                said = said.substring(0, 300) + "...";
            }
            return Future.failedFuture(new UpstreamException(options.name(), status,
                    (status == 401 ? "authentication failed" : "access denied") + " for " + url
                            + (said.isBlank() ? "" : ": " + said.strip()), null));
        });
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** The Authorization header to send to the upstream for {@code repository}, or null for none yet. */
    private Future<String> authorization(String repository) {
        if (!options.token().isEmpty()) {
            return Future.succeededFuture("Bearer " + options.token());
        }
        Future<Token> cached = tokens.get(repository);
        if (cached != null && cached.succeeded() && fresh(cached.result())) {
            return Future.succeededFuture("Bearer " + cached.result().value());
        }
        if (basicWanted && !options.username().isEmpty()) {
            return Future.succeededFuture(basic());
        }
        return Future.succeededFuture(null);
    }

    private String basic() {
        return "Basic " + Base64.getEncoder().encodeToString(
                (options.username() + ":" + options.password()).getBytes(StandardCharsets.UTF_8));
    }

    private static String pullScope(String repository) {
        return "repository:" + repository + ":pull";
    }

    private boolean fresh(Token t) {
        return t.expires().minus(EXPIRY_MARGIN).isAfter(clock.instant());
    }

    /** The Authorization that answers the challenge (a bearer token, or basic credentials), or a failure. */
    private Future<String> answerChallenge(String header, String repository) {
        List<AuthChallenge> challenges = AuthChallenge.parse(header);
        for (AuthChallenge c : challenges) {
            if (c.isBearer() && c.param("realm").isPresent()) {
                TokenKey key = new TokenKey(c.param("realm").get(), c.param("service").orElse(""),
                        c.param("scope").orElse(pullScope(repository)));
                return token(repository, key).map(t -> "Bearer " + t.value());
            }
        }
        for (AuthChallenge c : challenges) {
            if (c.isBasic()) {
                if (options.username().isEmpty()) {
                    return Future.failedFuture(new UpstreamException(options.name(), 401,
                            "asks for basic credentials and none are configured", null));
                }
                basicWanted = true;
                return Future.succeededFuture(basic());
            }
        }
        return Future.failedFuture(new UpstreamException(options.name(), 401,
                "answered 401 with no challenge Berth can meet: " + header, null));
    }

    /**
     * The cached token for {@code repository} while fresh; otherwise one fetch from the realm {@code key}
     * names, shared by whoever asks meanwhile. Expired tokens are dropped first, so the cache holds no
     * more than the repositories in use.
     */
    private Future<Token> token(String repository, TokenKey key) {
        // Only a 401 gets here; the map is never changed from inside compute().
        tokens.values().removeIf(f -> f.isComplete() && (f.failed() || !fresh(f.result())));
        return tokens.compute(repository, (k, current) -> {
            if (current != null && (!current.isComplete() || current.succeeded() && fresh(current.result()))) {
                return current;
            }
            Future<Token> fetch = fetchToken(key);
            fetch.onFailure(e -> tokens.remove(k, fetch));
            return fetch;
        });
    }

    private Future<Token> fetchToken(TokenKey key) {
        tokenFetches.incrementAndGet();
        StringBuilder url = new StringBuilder(key.realm());
        url.append(key.realm().contains("?") ? '&' : '?');
        if (!key.service().isEmpty()) {
            url.append("service=").append(URLEncoder.encode(key.service(), StandardCharsets.UTF_8)).append('&');
        }
        url.append("scope=").append(URLEncoder.encode(key.scope(), StandardCharsets.UTF_8));
        RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url.toString())
                .putHeader(HttpHeaders.USER_AGENT, "berth-mirror").setFollowRedirects(true);
        if (!options.username().isEmpty()) {
            ro.putHeader(HttpHeaders.AUTHORIZATION, basic());
        }
        Instant asked = clock.instant();
        return http.request(ro).compose(req -> req.send()).compose(resp -> resp.body().compose(body -> {
            if (resp.statusCode() != 200) {
                return Future.failedFuture(new UpstreamException(options.name(), resp.statusCode(),
                        "token endpoint " + key.realm() + " answered " + resp.statusCode(), null));
            }
            if (body.length() > MAX_TOKEN_RESPONSE) {
                return Future.failedFuture(new UpstreamException(options.name(), 502, "token response too large", null));
            }
            return Future.succeededFuture(parseToken(body.toString(StandardCharsets.UTF_8), asked));
        }), e -> Future.failedFuture(e instanceof UpstreamException ? e
                : e instanceof IllegalStateException ? new UpstreamException(options.name(), 502, e.getMessage(), e)
                : new UpstreamException(options.name(), 0, "token endpoint " + key.realm() + ": " + describe(e), e)));
    }

    private Token parseToken(String json, Instant asked) {
        JsonObject o;
        try {
            o = new JsonObject(json);
        } catch (DecodeException | ClassCastException e) {
            throw new IllegalStateException("the token response is not JSON");
        }
        String value = o.getString("token");
        if (value == null || value.isEmpty()) {
            value = o.getString("access_token");
        }
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("the token response has no token");
        }
        Duration lifetime = DEFAULT_TOKEN_LIFETIME;
        Object expiresIn = o.getValue("expires_in");
        if (expiresIn instanceof Number n && n.longValue() > 0) {
            lifetime = Duration.ofSeconds(n.longValue());
        }
        // Counted from when we asked, by our clock: the realm's issued_at is on its clock, and a skew
        // between the two would make fresh tokens look expired.
        return new Token(value, asked.plus(lifetime));
    }

    private String resolve(String path) {
        String base = options.url().toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path;
    }

    private static String origin(URI uri) {
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        return uri.getScheme().toLowerCase() + "://" + String.valueOf(uri.getHost()).toLowerCase() + ":" + port;
    }

    private static String describe(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    @Override
    public void close() {
        http.close();
    }
}
