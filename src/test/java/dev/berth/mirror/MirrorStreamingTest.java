package dev.berth.mirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cold blob reaches the client while the mirror is still fetching it, and the fetch into the
 * store goes on when that client leaves. The upstream is an in-test server that holds back the
 * second half of the blob until the test lets it go.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MirrorStreamingTest {
    private static final int SIZE = 4 * 1024 * 1024;

    @TempDir
    Path tmp;
    private Vertx vertx;
    private HttpServer upstream;
    private TestRegistry berth;
    private final byte[] blob = Fixtures.randomBytes(SIZE);
    private final String digest = RegistryClient.sha256(blob);
    private final AtomicInteger upstreamGets = new AtomicInteger();
    private volatile CompletableFuture<Void> release = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        upstream = vertx.createHttpServer().requestHandler(req -> {
            if (!req.path().equals("/v2/library/slow/blobs/" + digest)) {
                req.response().setStatusCode(404).end();
                return;
            }
            upstreamGets.incrementAndGet();
            req.response().putHeader("Content-Length", String.valueOf(SIZE)).putHeader("Content-Type", "application/octet-stream");
            req.response().write(Buffer.buffer(Arrays.copyOf(blob, SIZE / 2)));
            CompletableFuture<Void> gate = release;
            gate.thenRun(() -> vertx.runOnContext(v ->
                    req.response().end(Buffer.buffer(Arrays.copyOfRange(blob, SIZE / 2, SIZE)))));
        }).listen(0, "127.0.0.1").await();
        Path config = tmp.resolve("berth.yaml");
        Files.writeString(config, """
                mirror:
                  upstreams:
                    - name: slow
                      url: http://127.0.0.1:%d
                      prefix: slow/
                """.formatted(upstream.actualPort()));
        berth = TestRegistry.start(tmp.resolve("berth"), config, Map.of());
    }

    @AfterEach
    void stop() throws Exception {
        release.complete(null);
        if (berth != null) {
            berth.close();
        }
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private InputStream open() throws Exception {
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(berth.baseUrl() + "/v2/slow/library/slow/blobs/" + digest)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals(String.valueOf(SIZE), r.headers().firstValue("Content-Length").orElseThrow());
        assertEquals(digest, r.headers().firstValue("Docker-Content-Digest").orElseThrow());
        return r.body();
    }

    @Test
    void theFirstBytesArriveBeforeTheUpstreamHasSentTheRest() throws Exception {
        try (InputStream in = open()) {
            byte[] first = in.readNBytes(SIZE / 2);
            assertArrayEquals(Arrays.copyOf(blob, SIZE / 2), first, "half the blob, with the rest still upstream");
            assertTrue(!release.isDone());
            release.complete(null);
            byte[] rest = in.readAllBytes();
            assertArrayEquals(Arrays.copyOfRange(blob, SIZE / 2, SIZE), rest);
        }
        // Stored as well: served from the cache, no second upstream fetch.
        RegistryClient c = berth.client();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.head("/v2/slow.mirror/library/slow/blobs/" + digest).statusCode() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertArrayEquals(blob, c.get("/v2/slow/library/slow/blobs/" + digest).body());
        assertEquals(1, upstreamGets.get());
    }

    @Test
    void aClientThatLeavesDoesNotStopTheFetch() throws Exception {
        InputStream in = open();
        in.readNBytes(1024);
        in.close(); // gone, mid-blob
        release.complete(null);
        RegistryClient c = berth.client();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<byte[]> r;
        do {
            Thread.sleep(50);
            r = c.head("/v2/slow.mirror/library/slow/blobs/" + digest);
        } while (r.statusCode() != 200 && System.nanoTime() < deadline);
        assertEquals(200, r.statusCode(), "the blob was stored although its client left");
        assertArrayEquals(blob, c.get("/v2/slow/library/slow/blobs/" + digest).body());
        assertEquals(1, upstreamGets.get());
    }
}
