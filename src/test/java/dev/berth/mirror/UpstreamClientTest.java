package dev.berth.mirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.ExternalCommand;
import dev.berth.testing.OciLayout;
import dev.berth.testing.ReferenceRegistry;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestClock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mirror's upstream client against the reference registry behind htpasswd (basic auth), and
 * against an in-test registry that demands Docker tokens and serves blobs from another origin.
 */
class UpstreamClientTest {
    private static final List<String> ACCEPT = List.of("application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json");

    @TempDir
    Path tmp;
    private Vertx vertx;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private UpstreamClient client(String url, String user, String password) {
        return client(url, user, password, java.time.Clock.systemUTC());
    }

    private UpstreamClient client(String url, String user, String password, java.time.Clock clock) {
        UpstreamClient c = new UpstreamClient(vertx, new UpstreamClient.Options("up", URI.create(url), user, password, null,
                Duration.ofSeconds(5)), clock);
        closing.add(c);
        return c;
    }

    private static <T> T await(Future<T> f) throws Exception {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    private static byte[] body(HttpClientResponse r) throws Exception {
        return await(UpstreamClient.readBody(r)).getBytes();
    }

    @Test
    void aWholeBodyIsReadOnlyUpToItsLimitAnnouncedOrNot() throws Exception {
        // Chunked answers (no Content-Length): one within the limit, one beyond it.
        io.vertx.core.http.HttpServer server = vertx.createHttpServer().requestHandler(req -> {
            int size = req.path().equals("/small") ? 1 << 20 : (int) UpstreamClient.MAX_BODY_BYTES + (1 << 20);
            req.response().setChunked(true);
            for (int sent = 0; sent < size; sent += 64 * 1024) {
                req.response().write(io.vertx.core.buffer.Buffer.buffer(new byte[Math.min(64 * 1024, size - sent)]));
            }
            req.response().end();
        });
        int port = await(server.listen(0, "127.0.0.1")).actualPort();
        UpstreamClient c = client("http://127.0.0.1:" + port, null, null);
        assertEquals(1 << 20, body(await(c.request(HttpMethod.GET, "x", "/small", List.of()))).length);
        HttpClientResponse big = await(c.request(HttpMethod.GET, "x", "/big", List.of()));
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> body(big));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }

    // ---- basic auth, against CNCF distribution with htpasswd

    @Test
    void basicAuthAgainstTheReferenceRegistryKeepsMediaTypesAndDigests() throws Exception {
        RequiredTools.skopeo();
        ReferenceRegistry upstream = ReferenceRegistry.start(tmp.resolve("dist"), "alice", "s3cret");
        closing.add(upstream);
        OciLayout layout = OciLayout.create(tmp.resolve("layout"), new Random(7));
        OciLayout.Image image = layout.image("amd64", 2, 50_000);
        layout.tag(image, "v1");
        ExternalCommand.Result pushed = ExternalCommand.run(List.of("skopeo", "copy", "--dest-tls-verify=false",
                "--dest-creds", "alice:s3cret", "oci:" + layout.dir() + ":v1",
                "docker://" + upstream.hostPort() + "/library/tiny:v1"), Map.of(), tmp, Duration.ofMinutes(2));
        assertEquals(0, pushed.exitCode(), pushed.toString());

        UpstreamClient c = client(upstream.baseUrl(), "alice", "s3cret");
        HttpClientResponse manifest = await(c.request(HttpMethod.GET, "library/tiny", "/v2/library/tiny/manifests/v1", ACCEPT));
        assertEquals(200, manifest.statusCode());
        assertEquals(OciLayout.OCI_MANIFEST, manifest.getHeader("Content-Type"));
        assertEquals(image.digest(), manifest.getHeader("Docker-Content-Digest"));
        assertEquals(image.digest(), RegistryClient.sha256(body(manifest)));

        HttpClientResponse head = await(c.request(HttpMethod.HEAD, "library/tiny", "/v2/library/tiny/manifests/v1", ACCEPT));
        assertEquals(200, head.statusCode());
        assertEquals(image.digest(), head.getHeader("Docker-Content-Digest"));
        await(UpstreamClient.readBody(head));

        for (String blob : image.blobDigests()) {
            HttpClientResponse r = await(c.request(HttpMethod.GET, "library/tiny", "/v2/library/tiny/blobs/" + blob, List.of()));
            assertEquals(200, r.statusCode());
            assertEquals(blob, RegistryClient.sha256(body(r)));
        }
        // Absent content is the caller's to read, not an error of the client.
        HttpClientResponse missing = await(c.request(HttpMethod.GET, "library/tiny", "/v2/library/tiny/manifests/nope", ACCEPT));
        assertEquals(404, missing.statusCode());
        assertTrue(new String(body(missing), StandardCharsets.UTF_8).contains("MANIFEST_UNKNOWN"));

        // Without credentials, or with wrong ones: a clear refusal.
        UpstreamException none = assertThrows(UpstreamException.class, () -> await(client(upstream.baseUrl(), null, null)
                .request(HttpMethod.GET, "library/tiny", "/v2/library/tiny/manifests/v1", ACCEPT)));
        assertEquals(401, none.status());
        assertTrue(none.getMessage().contains("basic credentials"), none.getMessage());
        UpstreamException wrong = assertThrows(UpstreamException.class, () -> await(client(upstream.baseUrl(), "alice", "nope")
                .request(HttpMethod.GET, "library/tiny", "/v2/library/tiny/manifests/v1", ACCEPT)));
        assertEquals(401, wrong.status());
        assertTrue(!wrong.isUnavailable());
    }

    // ---- Docker token auth, against an in-test registry

    /** A registry that wants bearer tokens from its /token realm and redirects blobs to a CDN. */
    private final class TokenRegistry {
        final Set<String> issued = ConcurrentHashMap.newKeySet();
        final AtomicInteger tokenRequests = new AtomicInteger();
        final List<String> scopesAsked = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> cdnAuthorization = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> acceptSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        final byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        final byte[] blob = "layer bytes".getBytes(StandardCharsets.UTF_8);
        HttpServer server;
        HttpServer cdn;

        TokenRegistry start() {
            cdn = vertx.createHttpServer().requestHandler(req -> {
                cdnAuthorization.add(String.valueOf(req.getHeader("Authorization")));
                req.response().end(Buffer.buffer(blob));
            }).listen(0, "127.0.0.1").await();
            server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
            return this;
        }

        String url() {
            return "http://127.0.0.1:" + server.actualPort();
        }

        private void handle(HttpServerRequest req) {
            if (req.path().equals("/token")) {
                String expected = "Basic " + Base64.getEncoder().encodeToString("ci:pw".getBytes(StandardCharsets.UTF_8));
                if (!expected.equals(req.getHeader("Authorization"))) {
                    req.response().setStatusCode(401).end();
                    return;
                }
                tokenRequests.incrementAndGet();
                scopesAsked.add(req.getParam("scope") + " for " + req.getParam("service"));
                String token = "t" + tokenRequests.get();
                issued.add(token);
                // Slow enough that concurrent requests overlap with the fetch.
                vertx.setTimer(100, id -> req.response().end(new JsonObject().put("token", token).put("expires_in", 300)
                        .put("issued_at", Instant.now().toString()).encode()));
                return;
            }
            String auth = req.getHeader("Authorization");
            if (auth == null || !auth.startsWith("Bearer ") || !issued.contains(auth.substring(7))) {
                req.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer realm=\"" + url()
                        + "/token\",service=\"token-registry\",scope=\"repository:team/app:pull\"").end();
                return;
            }
            if (req.path().contains("/manifests/")) {
                acceptSeen.add(String.valueOf(req.getHeader("Accept")));
                req.response().putHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                        .end(Buffer.buffer(manifest));
            } else {
                req.response().setStatusCode(307).putHeader("Location", "http://127.0.0.1:" + cdn.actualPort() + "/b/1").end();
            }
        }
    }

    @Test
    void aTokenIsFetchedWithTheCredentialsAndReusedAndBlobsFollowRedirectsWithoutThem() throws Exception {
        TokenRegistry upstream = new TokenRegistry().start();
        UpstreamClient c = client(upstream.url(), "ci", "pw");
        HttpClientResponse m = await(c.request(HttpMethod.GET, "team/app", "/v2/team/app/manifests/v1", ACCEPT));
        assertEquals(200, m.statusCode());
        assertArrayEquals(upstream.manifest, body(m));
        assertEquals(List.of("repository:team/app:pull for token-registry"), upstream.scopesAsked);
        assertEquals(List.of(String.join(", ", ACCEPT)), upstream.acceptSeen, "every Accept type goes upstream");

        HttpClientResponse b = await(c.request(HttpMethod.GET, "team/app", "/v2/team/app/blobs/sha256:x", List.of()));
        assertEquals(200, b.statusCode());
        assertArrayEquals(upstream.blob, body(b));
        assertEquals(List.of("null"), upstream.cdnAuthorization, "no credentials to another origin");
        assertEquals(1, c.tokenFetches());
        assertEquals(1, upstream.tokenRequests.get());
    }

    @Test
    void concurrentRequestsShareOneTokenFetchAndAnExpiredTokenIsRenewed() throws Exception {
        TokenRegistry upstream = new TokenRegistry().start();
        TestClock clock = new TestClock(Instant.now());
        UpstreamClient c = client(upstream.url(), "ci", "pw", clock);
        List<Future<HttpClientResponse>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            all.add(c.request(HttpMethod.GET, "team/app", "/v2/team/app/manifests/v1", ACCEPT));
        }
        for (Future<HttpClientResponse> f : all) {
            HttpClientResponse r = await(f);
            assertEquals(200, r.statusCode());
            body(r);
        }
        assertEquals(1, upstream.tokenRequests.get(), "8 concurrent requests, one token");

        clock.advance(Duration.ofSeconds(295)); // within 10 s of the 300 s expiry: renewed
        upstream.issued.clear(); // and the upstream no longer takes the old one
        HttpClientResponse r = await(c.request(HttpMethod.GET, "team/app", "/v2/team/app/manifests/v1", ACCEPT));
        assertEquals(200, r.statusCode());
        body(r);
        assertEquals(2, upstream.tokenRequests.get());
    }

    @Test
    void aTokenRealmThatRefusesTheCredentialsIsAClearError() throws Exception {
        TokenRegistry upstream = new TokenRegistry().start();
        UpstreamException e = assertThrows(UpstreamException.class, () -> await(client(upstream.url(), "ci", "wrong")
                .request(HttpMethod.GET, "team/app", "/v2/team/app/manifests/v1", ACCEPT)));
        assertEquals(401, e.status());
        assertTrue(e.getMessage().contains("token endpoint"), e.getMessage());
    }

    @Test
    void anUnreachableUpstreamIsUnavailable() throws Exception {
        int port = dev.berth.testing.BerthProcess.freePort();
        UpstreamException e = assertThrows(UpstreamException.class, () -> await(client("http://127.0.0.1:" + port, null, null)
                .request(HttpMethod.GET, "library/x", "/v2/library/x/manifests/latest", ACCEPT)));
        assertEquals(0, e.status());
        assertTrue(e.isUnavailable());
    }
}
