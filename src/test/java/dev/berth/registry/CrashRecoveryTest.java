package dev.berth.registry;

import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.BerthProcess;
import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.GeneratedContent;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.StoreChecker;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a real server process in the middle of uploads: after a restart no partial blob
 * is visible, the store is consistent, the interrupted upload can be resumed, and a fresh push works.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CrashRecoveryTest {
    private static final long SIZE = 256L << 20;

    @TempDir
    Path storage;
    @TempDir
    Path logs;

    @Test
    void killedDuringALargeUploadThenResumedAndRetried() throws Exception {
        GeneratedContent blob = new GeneratedContent(7, SIZE);
        String digest = blob.sha256();
        Image existing;
        String location;
        AtomicLong sent = new AtomicLong();
        try (BerthProcess server = BerthProcess.start(storage, logs.resolve("first.log"))) {
            RegistryClient client = server.client();
            existing = pushImage(client, "crash/repo", "before");
            HttpResponse<byte[]> start = client.post("/v2/crash/repo/blobs/uploads/", new byte[0]);
            location = header(start, "Location");
            CountDownLatch halfway = new CountDownLatch(1);
            CompletableFuture<HttpResponse<byte[]>> upload = CompletableFuture.supplyAsync(() -> client.send(
                    client.request(location).method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
                            () -> counting(blob.stream(0), sent, SIZE / 4, halfway))).build()));
            assertTrue(halfway.await(60, TimeUnit.SECONDS), "upload did not get going");
            server.kill9();
            try {
                HttpResponse<byte[]> r = upload.get(30, TimeUnit.SECONDS);
                throw new AssertionError("the upload finished although the server was killed: " + r.statusCode());
            } catch (java.util.concurrent.ExecutionException expected) {
                // the connection broke
            }
        }

        try (BerthProcess server = BerthProcess.start(storage, logs.resolve("second.log"))) {
            RegistryClient client = server.client();
            assertEquals(List.of(), StoreChecker.problems(storage), "store after kill -9");
            assertEquals(404, client.head("/v2/crash/repo/blobs/" + digest).statusCode(), "no partial blob is visible");
            assertEquals(200, client.get("/v2/crash/repo/manifests/before").statusCode());
            assertEquals(existing.digest(), header(client.head("/v2/crash/repo/manifests/before"), "Docker-Content-Digest"));

            // The session survived with what reached the disk; the client resumes from there.
            HttpResponse<byte[]> status = client.get(location);
            assertEquals(204, status.statusCode());
            long stored = Long.parseLong(header(status, "Range").split("-")[1]) + 1;
            assertTrue(stored > 0 && stored <= sent.get(), "stored " + stored + " of " + sent.get() + " sent");
            HttpResponse<byte[]> rest = client.send(client.request(location)
                    .header("Content-Range", stored + "-" + (SIZE - 1))
                    .method("PATCH", HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> blob.stream(stored)), SIZE - stored))
                    .build());
            expect(rest, 202);
            HttpResponse<byte[]> done = client.put(withQuery(header(rest, "Location"), "digest=" + digest), new byte[0]);
            expect(done, 201);
            assertEquals(200, client.head("/v2/crash/repo/blobs/" + digest).statusCode());

            // A client that retries from scratch succeeds too.
            HttpResponse<byte[]> retry = client.send(client.request("/v2/crash/other/blobs/uploads/?digest=" + digest)
                    .method("POST", HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> blob.stream(0)), SIZE))
                    .build());
            expect(retry, 201);
            assertEquals(List.of(), StoreChecker.problems(storage), "store after recovery");
        }
    }

    @Test
    void killedRightAfterTheCompletingPutLeavesEitherNoBlobOrAWholeOne() throws Exception {
        GeneratedContent blob = new GeneratedContent(11, 64L << 20);
        String digest = blob.sha256();
        for (int delayMs : new int[] {0, 20, 80}) {
            try (BerthProcess server = BerthProcess.start(storage, logs.resolve("put-" + delayMs + ".log"))) {
                RegistryClient client = server.client();
                String repo = "crash/put" + delayMs;
                String location = header(client.post("/v2/" + repo + "/blobs/uploads/", new byte[0]), "Location");
                HttpResponse<byte[]> patched = client.send(client.request(location).method("PATCH",
                        HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                                () -> blob.stream(0)), blob.length())).build());
                expect(patched, 202);
                CompletableFuture<HttpResponse<byte[]>> put = CompletableFuture.supplyAsync(() ->
                        client.put(withQuery(header(patched, "Location"), "digest=" + digest), new byte[0]));
                Thread.sleep(delayMs);
                server.kill9();
                put.handle((r, e) -> null).get(30, TimeUnit.SECONDS);
            }
            try (BerthProcess server = BerthProcess.start(storage, logs.resolve("after-" + delayMs + ".log"))) {
                assertEquals(List.of(), StoreChecker.problems(storage), "store after kill at +" + delayMs + " ms");
                int head = server.client().head("/v2/crash/put" + delayMs + "/blobs/" + digest).statusCode();
                assertTrue(head == 200 || head == 404, "HEAD gave " + head);
            }
        }
    }

    /** Passes bytes through, counting them, and opens the latch once {@code mark} bytes went by. */
    private static InputStream counting(InputStream in, AtomicLong count, long mark, CountDownLatch latch) {
        return new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0 && count.addAndGet(n) >= mark) {
                    latch.countDown();
                }
                return n;
            }
        };
    }
}
