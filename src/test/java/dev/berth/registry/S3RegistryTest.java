package dev.berth.registry;

import static dev.berth.testing.Fixtures.DOCKER_MANIFEST;
import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.config.ConfigLoader;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageWriter;
import dev.berth.storage.s3.S3Driver;
import dev.berth.testing.BerthProcess;
import dev.berth.testing.FlakyS3Proxy;
import dev.berth.testing.Fixtures;
import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.S3ProxyServer;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The registry on the S3 driver, against a real S3 API server (s3proxy on loopback): presigned
 * redirects and proxying with ranges, uploads resumed after a restart and across replicas, the
 * purger and abandoned multipart uploads, the S3 requests a pull costs, an S3 outage in the middle
 * of an upload, and two replica processes on one bucket.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3RegistryTest {
    private static final String BUCKET = "berth";
    private static final int MIB = 1024 * 1024;
    private static S3ProxyServer s3;
    private static S3Client admin;
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path tmp;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyServer.start(BUCKET);
        admin = s3.client();
    }

    @AfterAll
    static void stopS3() throws Exception {
        admin.close();
        s3.close();
    }

    private TestRegistry start(String prefix, String... overrides) throws IOException {
        return start(s3, prefix, overrides);
    }

    private TestRegistry start(S3ProxyServer server, String prefix, String... overrides) throws IOException {
        Map<String, String> config = new HashMap<>(server.berthConfig(BUCKET, prefix));
        config.put("storage.s3.partSize", "5MiB");
        for (int i = 0; i < overrides.length; i += 2) {
            config.put(overrides[i], overrides[i + 1]);
        }
        return TestRegistry.start(tmp.resolve("root-" + UUID.randomUUID()), config);
    }

    private static String prefix() {
        return "t-" + UUID.randomUUID() + "/";
    }

    private static long total(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Requests per operation made between two snapshots. */
    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new HashMap<>();
        after.forEach((k, v) -> {
            long n = v - before.getOrDefault(k, 0L);
            if (n != 0) {
                d.put(k, n);
            }
        });
        return d;
    }

    private static HttpResponse<byte[]> fetch(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static List<String> keysUnder(String prefix) {
        return admin.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix(prefix)).contents().stream()
                .map(S3Object::key).toList();
    }

    private static int openMultipartUploads(String prefix) {
        return admin.listMultipartUploads(r -> r.bucket(BUCKET).prefix(prefix)).uploads().size();
    }

    @Test
    void blobGetsRedirectToAPresignedUrlThatServesRangesToo() throws Exception {
        try (TestRegistry registry = start(prefix())) {
            RegistryClient c = registry.client();
            byte[] blob = randomBytes(3 * MIB + 17);
            String digest = c.pushBlob("s3/redirect", blob);

            HttpResponse<byte[]> get = c.get("/v2/s3/redirect/blobs/" + digest);
            assertEquals(307, get.statusCode());
            assertEquals(digest, header(get, "Docker-Content-Digest"));
            String location = header(get, "Location");
            assertTrue(location.startsWith(s3.endpoint() + "/" + BUCKET + "/"), location);
            assertTrue(location.contains("X-Amz-Signature="), location);
            HttpResponse<byte[]> direct = fetch(location);
            assertEquals(200, direct.statusCode());
            assertArrayEquals(blob, direct.body());

            // A ranged GET is redirected as well, without a Content-Range of its own; the client sends
            // its Range to the presigned URL and S3 answers 206.
            HttpResponse<byte[]> ranged = c.get("/v2/s3/redirect/blobs/" + digest, "Range", "bytes=1000-1999");
            assertEquals(307, ranged.statusCode());
            assertNull(header(ranged, "Content-Range"));
            HttpResponse<byte[]> part = fetch(header(ranged, "Location"), "Range", "bytes=1000-1999");
            assertEquals(206, part.statusCode());
            assertArrayEquals(Arrays.copyOfRange(blob, 1000, 2000), part.body());

            // HEAD answers from the registry's own metadata.
            HttpResponse<byte[]> head = c.head("/v2/s3/redirect/blobs/" + digest);
            assertEquals(200, head.statusCode());
            assertEquals(String.valueOf(blob.length), header(head, "Content-Length"));

            // An unsatisfiable range is refused before any redirect.
            assertError(c.get("/v2/s3/redirect/blobs/" + digest, "Range", "bytes=" + blob.length + "-"), 416,
                    "RANGE_INVALID");
        }
    }

    @Test
    void withRedirectOffTheRegistryProxiesTheBytesAndRanges() {
        try (TestRegistry registry = start(prefix(), "storage.s3.redirect", "false")) {
            RegistryClient c = registry.client();
            byte[] blob = randomBytes(6 * MIB + 5);
            String digest = c.pushBlob("s3/proxy", blob);
            HttpResponse<byte[]> get = c.get("/v2/s3/proxy/blobs/" + digest);
            assertEquals(200, get.statusCode());
            assertArrayEquals(blob, get.body());
            HttpResponse<byte[]> tail = c.get("/v2/s3/proxy/blobs/" + digest, "Range", "bytes=" + (6 * MIB) + "-");
            assertEquals(206, tail.statusCode());
            assertEquals("bytes " + (6 * MIB) + "-" + (blob.length - 1) + "/" + blob.length, header(tail, "Content-Range"));
            assertArrayEquals(Arrays.copyOfRange(blob, 6 * MIB, blob.length), tail.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aChunkedUploadResumesAfterARestartOfBerth() throws Exception {
        String prefix = prefix();
        byte[] blob = randomBytes(13 * MIB + 3);
        int first = 7 * MIB + 1; // one 5 MiB part in the multipart upload, the rest in the tail
        String location;
        try (TestRegistry before = start(prefix)) {
            RegistryClient c = before.client();
            HttpResponse<byte[]> started = c.post("/v2/s3/resume/blobs/uploads/", new byte[0]);
            expect(started, 202);
            HttpResponse<byte[]> patched = c.patch(header(started, "Location"), Arrays.copyOf(blob, first),
                    "Content-Type", "application/octet-stream", "Content-Range", "0-" + (first - 1));
            expect(patched, 202);
            location = header(patched, "Location");
        }
        // A new process with nothing local in common: the session lives in the bucket.
        try (TestRegistry after = start(prefix)) {
            RegistryClient c = after.client();
            HttpResponse<byte[]> status = c.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-" + (first - 1), header(status, "Range"));
            expect(c.patch(location, Arrays.copyOfRange(blob, first, blob.length), "Content-Type",
                    "application/octet-stream", "Content-Range", first + "-" + (blob.length - 1)), 202);
            // The digest is checked against the bytes, not trusted: a wrong one is refused, and the
            // session is gone with it.
            String digest = sha256(blob);
            HttpResponse<byte[]> done = c.put(withQuery(location, "digest=" + digest), new byte[0]);
            expect(done, 201);
            HttpResponse<byte[]> get = after.client().get("/v2/s3/resume/blobs/" + digest);
            assertArrayEquals(blob, fetch(header(get, "Location")).body());
        }
        assertEquals(0, openMultipartUploads(prefix), "multipart uploads left open");
        assertEquals(List.of(), keysUnder(prefix + ".berth/"), "upload tails left");
    }

    @Test
    void aPatchWhoseTailCouldNotBeStoredFailsAndTheStatusTellsWhereToResume() throws Exception {
        try (FlakyS3Proxy flaky = FlakyS3Proxy.start(s3.endpoint(), 0)) {
            try (TestRegistry registry = start(prefix(), "storage.s3.endpoint", flaky.endpoint().toString(),
                    "storage.s3.redirect", "false")) {
                RegistryClient c = registry.client();
                byte[] blob = randomBytes(9 * MIB);
                HttpResponse<byte[]> started = c.post("/v2/s3/tail/blobs/uploads/", new byte[0]);
                String location = header(started, "Location");
                // The part goes to S3; the 2 MiB short of a second part cannot be stored as a tail.
                flaky.alsoFail(r -> r.method().name().equals("PUT") && r.path().contains("/.berth/tails/"));
                assertError(c.patch(location, Arrays.copyOf(blob, 7 * MIB), "Content-Type",
                        "application/octet-stream", "Content-Range", "0-" + (7 * MIB - 1)), 503, "UNAVAILABLE");
                flaky.alsoFail(null);
                // Not 7 MiB: only what is stored.
                HttpResponse<byte[]> status = c.get(location);
                assertEquals(204, status.statusCode());
                assertEquals("0-" + (5 * MIB - 1), header(status, "Range"));
                // A chunk that assumes the lost bytes were kept is refused with the true range.
                HttpResponse<byte[]> wrong = c.patch(location, Arrays.copyOfRange(blob, 7 * MIB, 9 * MIB), "Content-Type",
                        "application/octet-stream", "Content-Range", (7 * MIB) + "-" + (9 * MIB - 1));
                assertError(wrong, 416, "BLOB_UPLOAD_INVALID");
                assertEquals("0-" + (5 * MIB - 1), header(wrong, "Range"));
                expect(c.patch(location, Arrays.copyOfRange(blob, 5 * MIB, 9 * MIB), "Content-Type",
                        "application/octet-stream", "Content-Range", (5 * MIB) + "-" + (9 * MIB - 1)), 202);
                expect(c.put(withQuery(location, "digest=" + sha256(blob)), new byte[0]), 201);
                assertArrayEquals(blob, c.get("/v2/s3/tail/blobs/" + sha256(blob)).body());
            }
        }
    }

    @Test
    void aCompletionRetriedAfterTheDataWasCommittedSucceeds() throws Exception {
        String prefix = prefix();
        byte[] blob = randomBytes(8 * MIB);
        String location;
        try (TestRegistry before = start(prefix)) {
            RegistryClient c = before.client();
            HttpResponse<byte[]> started = c.post("/v2/s3/retry/blobs/uploads/", new byte[0]);
            HttpResponse<byte[]> patched = c.patch(header(started, "Location"), blob, "Content-Type",
                    "application/octet-stream");
            expect(patched, 202);
            location = header(patched, "Location");
        }
        // What a process leaves when it dies after completing the multipart upload at the session's key
        // and before moving it to the content address.
        String id = location.replaceAll(".*/uploads/([^/?]+).*", "$1");
        S3Driver raw = new S3Driver(admin, null, BUCKET, prefix, 5 * MIB);
        try (StorageWriter w = raw.writer("registry/repositories/s3/retry/_uploads/" + id + "/data", true)) {
            assertEquals(blob.length, w.size());
            w.commit();
        }
        try (TestRegistry after = start(prefix)) {
            RegistryClient c = after.client();
            // A PATCH can no longer add to it; the PUT that completes it works, and checks the digest.
            assertError(c.patch(location, new byte[] {1}, "Content-Type", "application/octet-stream"), 416,
                    "BLOB_UPLOAD_INVALID");
            expect(c.put(withQuery(location, "digest=" + sha256(blob)), new byte[0]), 201);
            assertArrayEquals(blob, fetch(header(c.get("/v2/s3/retry/blobs/" + sha256(blob)), "Location")).body());
        }
    }

    @Test
    void aResumedUploadWithTheWrongDigestIsRefused() throws Exception {
        String prefix = prefix();
        byte[] blob = randomBytes(6 * MIB);
        String location;
        try (TestRegistry before = start(prefix)) {
            RegistryClient c = before.client();
            HttpResponse<byte[]> started = c.post("/v2/s3/wrong/blobs/uploads/", new byte[0]);
            HttpResponse<byte[]> patched = c.patch(header(started, "Location"), blob, "Content-Type",
                    "application/octet-stream");
            expect(patched, 202);
            location = header(patched, "Location");
        }
        try (TestRegistry after = start(prefix)) {
            byte[] other = blob.clone();
            other[0] ^= 1;
            assertError(after.client().put(withQuery(location, "digest=" + sha256(other)), new byte[0]), 400,
                    "DIGEST_INVALID");
            assertError(after.client().head("/v2/s3/wrong/blobs/" + sha256(other)), 404, "BLOB_UNKNOWN");
            assertTrue(keysUnder(prefix + "registry/blobs/").isEmpty(), "no blob stored");
        }
    }

    @Test
    void theUploadPurgerAbortsMultipartUploadsOfStaleAndLostSessions() throws Exception {
        String prefix = prefix();
        try (TestRegistry registry = start(prefix)) {
            RegistryClient c = registry.client();
            // A stale session with a part uploaded and a tail.
            HttpResponse<byte[]> started = c.post("/v2/s3/purge/blobs/uploads/", new byte[0]);
            expect(c.patch(header(started, "Location"), randomBytes(6 * MIB), "Content-Type",
                    "application/octet-stream"), 202);
            assertEquals(1, openMultipartUploads(prefix));
            assertEquals(1, keysUnder(prefix + ".berth/tails/").size());
            // What a crash leaves: a multipart upload and a tail whose session is gone.
            String lost = prefix + "registry/repositories/s3/purge/_uploads/" + UUID.randomUUID() + "/data";
            admin.createMultipartUpload(r -> r.bucket(BUCKET).key(lost));
            admin.putObject(r -> r.bucket(BUCKET).key(prefix + ".berth/tails/" + lost.substring(prefix.length())),
                    RequestBody.fromBytes(new byte[] {1, 2, 3}));
            assertEquals(2, openMultipartUploads(prefix));

            // A live session is left alone by the driver's own sweep; the lost one's leftovers go.
            StorageDriver driver = registry.server().storageDriver();
            assertEquals(2, driver.purgeAbandonedWrites(Instant.now().plusSeconds(5)));
            assertEquals(1, openMultipartUploads(prefix));
            assertEquals(1, keysUnder(prefix + ".berth/tails/").size());

            // The upload purger removes the stale session with its multipart upload and tail.
            int removed = registry.server().store().uploads().purge(Instant.now().plusSeconds(5))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(1, removed);
            assertEquals(0, openMultipartUploads(prefix));
            assertEquals(List.of(), keysUnder(prefix + ".berth/"));
            assertEquals(List.of(), keysUnder(prefix + "registry/repositories/s3/purge/_uploads/"));
        }
    }

    @Test
    void aFiveLayerPullCostsFewS3RequestsAndNoneOnceCached() throws Exception {
        String prefix = prefix();
        Image image;
        try (TestRegistry pusher = start(prefix)) {
            image = Fixtures.pushImage(pusher.client(), "s3/pull", "v1", 5, true, "amd64");
        }
        // A fresh process: nothing cached. Tags and links stay cached for the whole test.
        try (TestRegistry registry = start(prefix, "storage.s3.metadataTtl", "1h")) {
            RegistryClient c = registry.client();
            StorageDriver driver = registry.server().storageDriver();
            Map<String, Long> before = driver.requestCounts();
            pull(c, image);
            Map<String, Long> cold = delta(before, driver.requestCounts());
            // Manifest by tag: GETs of the tag link, of the manifest's link in the repository and of its
            // bytes. Each of the 6 blobs: GET of its link in the repository, HEAD for its size.
            // Presigning the redirects is local.
            assertEquals(15, total(cold), "S3 requests for a cold 5-layer pull: " + cold);
            assertEquals(Map.of("GetObject", 9L, "HeadObject", 6L), cold);

            // Asking for what is not there costs one request, not a listing as well.
            Map<String, Long> missing = driver.requestCounts();
            assertError(c.head("/v2/s3/pull/blobs/" + sha256(new byte[] {7})), 404, "BLOB_UNKNOWN");
            assertError(c.get("/v2/s3/pull/manifests/" + sha256(new byte[] {8})), 404, "MANIFEST_UNKNOWN");
            assertEquals(Map.of("GetObject", 2L), delta(missing, driver.requestCounts()));

            Map<String, Long> warm = driver.requestCounts();
            pull(c, image);
            assertEquals(Map.of(), delta(warm, driver.requestCounts()), "a second pull touches S3 not at all");
        }
    }

    /** What docker pull asks: the manifest by tag, then the config and each layer by digest. */
    private static void pull(RegistryClient c, Image image) {
        HttpResponse<byte[]> manifest = c.get("/v2/" + image.repo() + "/manifests/v1", "Accept", DOCKER_MANIFEST);
        assertEquals(200, manifest.statusCode());
        assertEquals(image.digest(), header(manifest, "Docker-Content-Digest"));
        expect(c.get("/v2/" + image.repo() + "/blobs/" + image.configDigest()), 307);
        for (String layer : image.layerDigests()) {
            expect(c.get("/v2/" + image.repo() + "/blobs/" + layer), 307);
        }
    }

    @Test
    void anS3OutageMidUploadIsAnErrorAndNeverAHalfWrittenBlob(@TempDir Path s3dir) throws Exception {
        try (S3ProxyServer disk = S3ProxyServer.startOnDisk(s3dir, BUCKET);
             TestRegistry registry = start(disk, "outage/", "storage.s3.redirect", "false")) {
            RegistryClient c = registry.client();
            byte[] blob = randomBytes(24 * MIB);
            String digest = sha256(blob);
            HttpResponse<byte[]> started = c.post("/v2/s3/outage/blobs/uploads/", new byte[0]);
            expect(started, 202);

            // Stream the blob; once 12 MiB are out (two parts sent to S3), S3 goes away.
            AtomicBoolean stopped = new AtomicBoolean();
            InputStream body = new InputStream() {
                private int pos;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (pos >= blob.length) {
                        return -1;
                    }
                    if (pos >= 12 * MIB && stopped.compareAndSet(false, true)) {
                        try {
                            disk.stop();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    int n = Math.min(len, Math.min(64 * 1024, blob.length - pos));
                    System.arraycopy(blob, pos, b, off, n);
                    pos += n;
                    return n;
                }
            };
            HttpRequest patch = c.request(withQuery(header(started, "Location"), "digest=" + digest))
                    .method("PUT", HttpRequest.BodyPublishers.ofInputStream(() -> body))
                    .header("Content-Type", "application/octet-stream").build();
            try {
                HttpResponse<byte[]> r = HTTP.send(patch, HttpResponse.BodyHandlers.ofByteArray());
                // The answer, when the client is still there to read it, is the spec's error format.
                assertError(r, 503, "UNAVAILABLE");
            } catch (IOException e) {
                // The registry closed the connection after answering mid-body: also a failed push.
            }
            assertTrue(stopped.get(), "S3 was stopped during the upload");

            // While S3 is down: clear errors, nothing served.
            assertError(c.head("/v2/s3/outage/blobs/" + digest), 503, "UNAVAILABLE");
            assertError(c.post(withQuery("/v2/s3/outage/blobs/uploads/", "digest=" + sha256(new byte[] {1})),
                    new byte[] {1}, "Content-Type", "application/octet-stream"), 503, "UNAVAILABLE");

            disk.startAgain();
            // No part of the blob became visible, and the retried push succeeds.
            assertError(c.head("/v2/s3/outage/blobs/" + digest), 404, "BLOB_UNKNOWN");
            try (S3Client client = disk.client()) {
                assertEquals(List.of(), client.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix("outage/registry/blobs/"))
                        .contents().stream().map(S3Object::key).toList());
            }
            assertEquals(digest, c.pushBlob("s3/outage", blob));
            assertArrayEquals(blob, c.get("/v2/s3/outage/blobs/" + digest).body());
        }
    }

    @Test
    void throttlingAndServerErrorsAreRetriedByTheClient() throws Exception {
        try (FlakyS3Proxy flaky = FlakyS3Proxy.start(s3.endpoint(), 4)) {
            try (TestRegistry registry = start(prefix(), "storage.s3.endpoint", flaky.endpoint().toString(),
                    "storage.s3.redirect", "false")) {
                RegistryClient c = registry.client();
                // Every 4th S3 request fails with 503 SlowDown or 500 InternalError; every push and pull
                // still succeeds, multipart uploads included.
                byte[] big = randomBytes(12 * MIB);
                String digest = c.pushBlob("s3/flaky", big);
                Image image = Fixtures.pushImage(c, "s3/flaky", "v1", 3, false, "amd64");
                assertArrayEquals(big, c.get("/v2/s3/flaky/blobs/" + digest).body());
                assertArrayEquals(image.manifest(), c.get("/v2/s3/flaky/manifests/v1", "Accept", image.mediaType()).body());
                for (String layer : image.layerDigests()) {
                    assertEquals(layer, sha256(c.get("/v2/s3/flaky/blobs/" + layer).body()));
                }
                assertTrue(flaky.failed() >= 5, "failures injected: " + flaky.failed());
                // The client's count includes the retries the SDK made.
                long sent = total(registry.server().storageDriver().requestCounts());
                assertEquals(flaky.requests(), sent, "requests seen by the proxy vs sent by the driver");
            }
        }
    }

    @Test
    void twoReplicaProcessesOnOneBucketServeEachOthersPushes() throws Exception {
        Map<String, String> env = new HashMap<>();
        Map<String, String> config = new HashMap<>(s3.berthConfig(BUCKET, prefix()));
        config.put("storage.s3.metadataTtl", "1s");
        config.put("agent.embedded", "false");
        config.put("log.requests", "false");
        config.forEach((k, v) -> env.put(ConfigLoader.envName(k), v));
        try (BerthProcess a = BerthProcess.start(tmp.resolve("a"), tmp.resolve("a.log"), env);
             BerthProcess b = BerthProcess.start(tmp.resolve("b"), tmp.resolve("b.log"), env)) {
            RegistryClient ca = a.client();
            RegistryClient cb = b.client();
            // Push to A (one layer big enough for a multipart upload), pull everything from B.
            byte[] big = randomBytes(11 * MIB);
            String bigDigest = ca.pushBlob("team/app", big);
            Image v1 = Fixtures.pushImage(ca, "team/app", "latest", 2, false, "amd64");
            HttpResponse<byte[]> m = cb.get("/v2/team/app/manifests/latest", "Accept", v1.mediaType());
            assertEquals(200, m.statusCode(), new String(m.body()));
            assertArrayEquals(v1.manifest(), m.body());
            for (String d : List.of(bigDigest, v1.configDigest(), v1.layerDigests().get(0))) {
                HttpResponse<byte[]> blob = cb.get("/v2/team/app/blobs/" + d);
                expect(blob, 307);
                assertEquals(d, sha256(fetch(header(blob, "Location")).body()));
            }

            // An upload that a load balancer spreads over both: started on A, a chunk written on B, the
            // status asked of A (which knew the session when it was empty), the next chunk on A, closed on B.
            byte[] spread = randomBytes(9 * MIB);
            int half = 6 * MIB + 5;
            HttpResponse<byte[]> started = ca.post("/v2/team/app/blobs/uploads/", new byte[0]);
            String location = header(started, "Location");
            expect(cb.patch(location, Arrays.copyOf(spread, half), "Content-Type", "application/octet-stream",
                    "Content-Range", "0-" + (half - 1)), 202);
            HttpResponse<byte[]> status = ca.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-" + (half - 1), header(status, "Range"), "A reports what B stored");
            expect(ca.patch(location, Arrays.copyOfRange(spread, half, spread.length), "Content-Type",
                    "application/octet-stream", "Content-Range", half + "-" + (spread.length - 1)), 202);
            expect(cb.put(withQuery(location, "digest=" + sha256(spread)), new byte[0]), 201);
            expect(ca.head("/v2/team/app/blobs/" + sha256(spread)), 200);

            // B pushes a new latest; A, which cached the old one, sees it within metadataTtl.
            expect(ca.get("/v2/team/app/manifests/latest", "Accept", v1.mediaType()), 200);
            Image v2 = Fixtures.pushImage(cb, "team/app", "latest", 1, false, "arm64");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String seen;
            do {
                Thread.sleep(200);
                seen = header(ca.head("/v2/team/app/manifests/latest", "Accept", v2.mediaType()), "Docker-Content-Digest");
            } while (!v2.digest().equals(seen) && System.nanoTime() < deadline);
            assertEquals(v2.digest(), seen, "A serves B's new tag");
        }
    }
}
