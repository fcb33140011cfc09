package dev.berth.registry.api;

import static dev.berth.testing.Fixtures.OCI_CONFIG;
import static dev.berth.testing.Fixtures.OCI_INDEX;
import static dev.berth.testing.Fixtures.OCI_LAYER;
import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.descriptor;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.RegistryClient.sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed names, tags, digests, ranges, JSON and oversized manifests each get the right error
 * code, and none of them changes a byte of what is stored (checked after every test).
 */
class BadInputTest {
    @TempDir
    static Path storage;
    static TestRegistry registry;
    static RegistryClient client;
    static Image image;
    private Map<String, String> before;

    @BeforeAll
    static void start() throws Exception {
        registry = TestRegistry.start(storage);
        client = registry.client();
        image = pushImage(client, "good/repo", "v1");
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @BeforeEach
    void snapshot() throws IOException {
        before = files();
    }

    @AfterEach
    void storedDataIsUnchanged() throws IOException {
        assertEquals(before, files(), "stored files changed");
        assertEquals(200, client.get("/v2/").statusCode());
        assertArrayEquals(image.manifest(), client.get("/v2/good/repo/manifests/v1").body());
    }

    /** Every stored registry file (the database's own files change even when only read) and its sha256. */
    private static Map<String, String> files() throws IOException {
        Map<String, String> result = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(storage.resolve("registry"))) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                result.put(storage.relativize(p).toString(), sha256(Files.readAllBytes(p)));
            }
        }
        return result;
    }

    @ParameterizedTest
    @ValueSource(strings = {"Upper/case", "-lead", "trail-", "a__-b", "a..b", "a/_layers", "_hidden", "a/-b",
            "with%20space", "..%2F..%2Fetc", "a%2F..%2F..", "x.", "a:b"})
    void malformedRepositoryNamesAreNameInvalid(String name) {
        assertError(client.get("/v2/" + name + "/manifests/v1"), 400, "NAME_INVALID");
        assertError(client.get("/v2/" + name + "/tags/list"), 400, "NAME_INVALID");
        assertError(client.post("/v2/" + name + "/blobs/uploads/", new byte[0]), 400, "NAME_INVALID");
        assertError(client.put("/v2/" + name + "/manifests/v1", image.manifest(), "Content-Type", OCI_MANIFEST),
                400, "NAME_INVALID");
        assertError(client.get("/v2/" + name + "/blobs/" + image.configDigest()), 400, "NAME_INVALID");
    }

    @Test
    void overlongRepositoryNameIsNameInvalid() {
        String name = "a".repeat(128) + "/" + "b".repeat(127);
        assertEquals(256, name.length());
        assertError(client.get("/v2/" + name + "/tags/list"), 400, "NAME_INVALID");
    }

    @ParameterizedTest
    @ValueSource(strings = {".dot", "-dash", "has%20space", "has*star", "way-too-long-" + "x123456789x123456789x123456789"
            + "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x123456789x123456789"})
    void malformedTagsAreTagInvalid(String tag) {
        assertError(client.get("/v2/good/repo/manifests/" + tag), 400, "TAG_INVALID");
        assertError(client.put("/v2/good/repo/manifests/" + tag, image.manifest(), "Content-Type", OCI_MANIFEST),
                400, "TAG_INVALID");
        assertError(client.delete("/v2/good/repo/manifests/" + tag), 400, "TAG_INVALID");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:abc", "sha256:%s" + "UPPER", "sha256:%s" + "G", "md5:0123",
            "sha512:%s" + "SHORT", "sha256:", "sha256::%s" + "COLON"})
    void malformedDigestsAreDigestInvalid(String template) {
        // Templates: %s stands for a 64-character run that is wrong in the way the suffix names.
        String digest = template.endsWith("UPPER") ? "sha256:" + "A".repeat(64)
                : template.endsWith("G") ? "sha256:" + "g".repeat(64)
                : template.endsWith("SHORT") ? "sha512:" + "0".repeat(64)
                : template.endsWith("COLON") ? "sha256::" + "0".repeat(63)
                : template;
        assertError(client.get("/v2/good/repo/blobs/" + digest), 400, "DIGEST_INVALID");
        assertError(client.get("/v2/good/repo/manifests/" + digest), 400, "DIGEST_INVALID");
        assertError(client.delete("/v2/good/repo/blobs/" + digest), 400, "DIGEST_INVALID");
        assertError(client.get("/v2/good/repo/referrers/" + digest), 400, "DIGEST_INVALID");
        assertError(client.post("/v2/good/repo/blobs/uploads/?digest=" + digest, new byte[] {1}), 400, "DIGEST_INVALID");
        assertError(client.put("/v2/good/repo/manifests/" + digest, image.manifest(), "Content-Type", OCI_MANIFEST),
                400, "DIGEST_INVALID");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=99999999-", "bytes=-0", "bytes=18446744073709551616-"})
    void unsatisfiableRangesAre416WithTheSize(String range) {
        HttpResponse<byte[]> r = client.get("/v2/good/repo/blobs/" + image.configDigest(), "Range", range);
        assertError(r, 416, "RANGE_INVALID");
        assertEquals("bytes */" + client.get("/v2/good/repo/blobs/" + image.configDigest()).body().length,
                r.headers().firstValue("Content-Range").orElse(null));
        assertEquals(null, r.headers().firstValue("Cache-Control").orElse(null), "an error is not cacheable");
    }

    /** RFC 9110: a Range header that is invalid, in another unit or multi-part is ignored: 200, whole blob. */
    @ParameterizedTest
    @ValueSource(strings = {"bytes=abc", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=-", "bytes=1-2-3"})
    void invalidRangeHeadersAreIgnored(String range) {
        HttpResponse<byte[]> whole = client.get("/v2/good/repo/blobs/" + image.configDigest());
        HttpResponse<byte[]> r = client.get("/v2/good/repo/blobs/" + image.configDigest(), "Range", range);
        assertEquals(200, r.statusCode());
        assertArrayEquals(whole.body(), r.body());
    }

    @Test
    void badContentRangesOnUploadsAre416AndLeaveTheSessionAsItWas() {
        HttpResponse<byte[]> start = client.post("/v2/bad/uploads/blobs/uploads/", new byte[0]);
        String location = start.headers().firstValue("Location").orElseThrow();
        for (String range : new String[] {"abc", "5-", "-5", "10-2", "bytes 1-2/x"}) {
            assertError(client.patch(location, new byte[] {1, 2}, "Content-Range", range), 416, "BLOB_UPLOAD_INVALID");
        }
        assertEquals("0-0", client.get(location).headers().firstValue("Range").orElseThrow());
        assertEquals(204, client.delete(location).statusCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "[]", "{\"schemaVersion\":1}", "{\"schemaVersion\":\"2\"}", "{}", "{\"schemaVersion\":2}",
            "{\"schemaVersion\":2,\"config\":\"x\",\"layers\":[]}", "{\"schemaVersion\":2,\"mediaType\":\"application/x-other\"}",
            "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{}}", "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"size\":1}}",
            "{\"schemaVersion\":2,\"manifests\":{}}", "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:1\"}]}",
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":"
                    + "{\"mediaType\":\"x\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\","
                    + "\"size\":-1},\"layers\":[]}", "{\"schemaVersion\":2", ""})
    void malformedManifestsAreManifestInvalid(String body) {
        assertError(client.put("/v2/good/repo/manifests/bad", body.getBytes(StandardCharsets.UTF_8),
                "Content-Type", OCI_MANIFEST), 400, "MANIFEST_INVALID");
    }

    @Test
    void mediaTypeFieldMustMatchContentType() {
        assertError(client.put("/v2/good/repo/manifests/bad", image.manifest(), "Content-Type", OCI_INDEX),
                400, "MANIFEST_INVALID");
    }

    @Test
    void layerSizesMustMatchTheStoredBlobs() {
        JsonObject m = new JsonObject(new String(image.manifest(), StandardCharsets.UTF_8));
        JsonArray layers = m.getJsonArray("layers");
        layers.getJsonObject(0).put("size", layers.getJsonObject(0).getLong("size") + 1);
        assertError(client.put("/v2/good/repo/manifests/bad", m.encode().getBytes(StandardCharsets.UTF_8),
                "Content-Type", OCI_MANIFEST), 400, "MANIFEST_INVALID");
    }

    @Test
    void manifestsReferencingOtherRepositoriesBlobsAreRejected() {
        byte[] m = new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                .put("config", descriptor(OCI_CONFIG, image.configDigest(), 10))
                .put("layers", new JsonArray().add(descriptor(OCI_LAYER, image.layerDigests().get(0), 1000)))
                .encode().getBytes(StandardCharsets.UTF_8);
        assertError(client.put("/v2/other/repo/manifests/v1", m, "Content-Type", OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN");
    }

    @Test
    void oversizedManifestsAre413WhetherDeclaredOrStreamed() {
        byte[] big = new byte[4 * 1024 * 1024 + 1];
        java.util.Arrays.fill(big, (byte) ' ');
        assertError(client.put("/v2/good/repo/manifests/big", big, "Content-Type", OCI_MANIFEST), 413, "SIZE_INVALID");
        // Without a Content-Length the limit is enforced while reading.
        HttpResponse<byte[]> streamed = client.send(client.request("/v2/good/repo/manifests/big")
                .header("Content-Type", OCI_MANIFEST)
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build());
        assertError(streamed, 413, "SIZE_INVALID");
    }

    @Test
    void tooManyTagParametersAre414() {
        StringBuilder query = new StringBuilder();
        for (int i = 0; i <= ManifestHandler.MAX_TAG_PARAMETERS; i++) {
            query.append(i == 0 ? "?" : "&").append("tag=t").append(i);
        }
        assertError(client.put("/v2/good/repo/manifests/" + image.digest() + query, image.manifest(),
                "Content-Type", OCI_MANIFEST), 414, "TAG_INVALID");
    }

    @Test
    void truncatedBodiesDoNotCreateBlobsOrManifests() throws Exception {
        // Declares 1000 bytes, sends 10, then closes: the upload session keeps what arrived, nothing else.
        HttpResponse<byte[]> start = client.post("/v2/bad/truncated/blobs/uploads/", new byte[0]);
        String location = start.headers().firstValue("Location").orElseThrow();
        rawRequest("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
        rawRequest("PUT /v2/good/repo/manifests/trunc HTTP/1.1\r\nHost: x\r\nContent-Type: " + OCI_MANIFEST
                + "\r\nContent-Length: 500\r\n\r\n{\"schemaVersion\":2,");
        assertError(client.get("/v2/good/repo/manifests/trunc"), 404, "MANIFEST_UNKNOWN");
        // The PATCH holds the session until the server sees the connection end; then it is free again.
        long deadline = System.nanoTime() + 10_000_000_000L;
        int status;
        while ((status = client.delete(location).statusCode()) == 400 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(204, status);
    }

    /** Sends raw bytes and closes the connection without waiting for an answer. */
    private static void rawRequest(String request) throws IOException, InterruptedException {
        try (Socket s = new Socket("127.0.0.1", registry.port())) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            s.setSoTimeout(2000);
            InputStream in = s.getInputStream();
            try {
                in.readAllBytes();
            } catch (IOException e) {
                // the server may time out or reset; either is fine
            }
        }
        Thread.sleep(100);
    }
}
