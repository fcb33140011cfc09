package dev.berth.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A loopback HTTP proxy in front of an S3 API server that fails every {@code n}-th request the way
 * overloaded S3 does (alternately {@code 503 SlowDown} and {@code 500 InternalError}) and forwards
 * the rest unchanged (the Host header too, so signatures still verify).
 */
public final class FlakyS3Proxy implements AutoCloseable {
    private static final Set<String> NOT_FORWARDED = Set.of("expect", "connection", "keep-alive");

    private final Vertx vertx;
    private final HttpServer server;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** Requests matching this fail too (503 SlowDown), whatever n says; none by default. */
    private volatile Predicate<HttpServerRequest> alsoFail = r -> false;

    private FlakyS3Proxy(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /** Makes every request matching {@code rule} fail from now on (null: none). */
    public void alsoFail(Predicate<HttpServerRequest> rule) {
        alsoFail = rule == null ? r -> false : rule;
    }

    /** Starts the proxy on a free loopback port; every {@code n}-th request fails (0: none). */
    public static FlakyS3Proxy start(URI target, int n) throws Exception {
        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(target.getHost())
                .setDefaultPort(target.getPort()));
        FlakyS3Proxy[] self = new FlakyS3Proxy[1];
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setHandle100ContinueAutomatically(true))
                .requestHandler(req -> self[0].handle(req, client, n));
        server.listen().await(10, TimeUnit.SECONDS);
        self[0] = new FlakyS3Proxy(vertx, server);
        return self[0];
    }

    private void handle(HttpServerRequest req, HttpClient client, int n) {
        long number = requests.incrementAndGet();
        if (alsoFail.test(req)) {
            failed.incrementAndGet();
            fail(req, 503, "SlowDown");
            return;
        }
        if (n > 0 && number % n == 0) {
            boolean slowDown = failed.incrementAndGet() % 2 == 1;
            fail(req, slowDown ? 503 : 500, slowDown ? "SlowDown" : "InternalError");
            return;
        }
        req.pause();
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        req.headers().forEach((k, v) -> {
            if (!NOT_FORWARDED.contains(k.toLowerCase())) {
                headers.add(k, v);
            }
        });
        client.request(new RequestOptions().setMethod(req.method()).setURI(req.uri()).setHeaders(headers))
                .compose(out -> out.send(req).compose(in -> {
                    req.response().setStatusCode(in.statusCode());
                    in.headers().forEach((k, v) -> {
                        if (!NOT_FORWARDED.contains(k.toLowerCase())) {
                            req.response().headers().add(k, v);
                        }
                    });
                    return in.pipeTo(req.response());
                }))
                .onFailure(e -> {
                    if (!req.response().headWritten()) {
                        req.response().setStatusCode(502).end();
                    } else {
                        req.connection().close();
                    }
                });
    }

    /** An S3 error answer, on a connection that is then closed (the request body is not read). */
    private static void fail(HttpServerRequest req, int status, String code) {
        req.response().setStatusCode(status).putHeader("Content-Type", "application/xml").putHeader("Connection", "close")
                .end("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
                        + "</Code><Message>injected</Message></Error>");
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.actualPort());
    }

    /** Requests that reached the proxy, and how many of them it failed. */
    public long requests() {
        return requests.get();
    }

    public long failed() {
        return failed.get();
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }
}
