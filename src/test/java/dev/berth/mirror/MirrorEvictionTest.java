package dev.berth.mirror;

import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.descriptor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction end to end: images pulled through a mirror with a size cap; the least recently pulled
 * one goes, its bytes leave the disk, the rest still pulls with the upstream gone; a layer a local
 * repository mounted stays. And what {@code GET /api/mirror} and {@code /metrics} report meanwhile.
 */
class MirrorEvictionTest {
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final int LAYER = 100_000;

    @TempDir
    Path tmp;

    private record Image(String name, String digest, List<String> blobs) {
    }

    /** An image of two random layers of {@link #LAYER} bytes and a config, pushed as {@code repo:v1}. */
    private static Image push(RegistryClient c, String repo) {
        List<String> blobs = new ArrayList<>();
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"repo\":\"" + repo + "\"}").getBytes(StandardCharsets.UTF_8);
        String configDigest = c.pushBlob(repo, config);
        blobs.add(configDigest);
        JsonArray layers = new JsonArray();
        for (int i = 0; i < 2; i++) {
            byte[] layer = Fixtures.randomBytes(LAYER);
            String d = c.pushBlob(repo, layer);
            blobs.add(d);
            layers.add(descriptor("application/vnd.oci.image.layer.v1.tar", d, layer.length));
        }
        byte[] manifest = new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                .put("config", descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length))
                .put("layers", layers).encode().getBytes(StandardCharsets.UTF_8);
        return new Image(repo, c.pushManifest(repo, "v1", OCI_MANIFEST, manifest), blobs);
    }

    /** Pulls the image through the mirror's prefix as a client does: manifest by tag, then every blob. */
    private static void pull(RegistryClient c, Image image) {
        HttpResponse<byte[]> m = c.get("/v2/up/" + image.name() + "/manifests/v1", "Accept", OCI_MANIFEST);
        assertEquals(200, m.statusCode(), new String(m.body(), StandardCharsets.UTF_8));
        assertEquals(image.digest(), RegistryClient.sha256(m.body()));
        for (String blob : image.blobs()) {
            HttpResponse<byte[]> b = c.get("/v2/up/" + image.name() + "/blobs/" + blob);
            assertEquals(200, b.statusCode(), image.name() + " " + blob);
            assertEquals(blob, RegistryClient.sha256(b.body()));
        }
    }

    private static JsonObject upstreamStatus(RegistryClient c) {
        HttpResponse<byte[]> r = c.get("/api/mirror");
        assertEquals(200, r.statusCode());
        return new JsonObject(new String(r.body(), StandardCharsets.UTF_8)).getJsonArray("upstreams").getJsonObject(0);
    }

    private static boolean onDisk(Path storage, String digest) {
        return Files.exists(storage.resolve("registry/blobs/sha256/" + digest.substring(7, 9) + "/" + digest.substring(7) + "/data"));
    }

    @Test
    void pastTheSizeCapTheLeastRecentlyPulledImageGoesAndTheRestStillPullsWithTheUpstreamDown() throws Exception {
        TestRegistry upstream = TestRegistry.start(tmp.resolve("upstream"));
        Path mirrorStorage = tmp.resolve("mirror");
        try {
            RegistryClient up = upstream.client();
            Image a = push(up, "library/a");
            Image b = push(up, "library/b");
            Image c = push(up, "library/c");

            Path config = tmp.resolve("berth.yaml");
            // Room for two of the three images (each a little over 200 kB); passes run when asked.
            Files.writeString(config, """
                    mirror:
                      cache:
                        maxSize: 500kB
                        ttl: 0s
                        evictInterval: 1h
                      upstreams:
                        - name: up
                          url: %s
                          prefix: up/
                          tagTtl: 1h
                    """.formatted(upstream.baseUrl()));
            try (TestRegistry mirror = TestRegistry.start(mirrorStorage, config, Map.of())) {
                RegistryClient m = mirror.client();
                pull(m, a);
                Thread.sleep(5);
                pull(m, b);
                Thread.sleep(5);
                pull(m, c);
                Thread.sleep(5);
                // A local repository mounts one of b's layers from the cache.
                String shared = b.blobs().get(1);
                HttpResponse<byte[]> mount = m.post("/v2/team/app/blobs/uploads/?mount=" + shared + "&from=up.mirror/library/b", new byte[0]);
                assertEquals(201, mount.statusCode());
                // a is only looked at again, as containerd re-resolves a tag it has (one HEAD, no blob
                // requests): its manifest and everything it references count as used, so b is now
                // the least recently pulled.
                HttpResponse<byte[]> resolve = m.head("/v2/up/library/a/manifests/v1", "Accept", OCI_MANIFEST);
                assertEquals(200, resolve.statusCode());

                JsonObject before = upstreamStatus(m);
                assertEquals(12, before.getLong("cacheItems"));
                long imageBytes = before.getLong("cacheBytes") / 3;
                assertTrue(before.getLong("cacheBytes") > 500_000, before.encode());
                assertEquals(12, before.getLong("misses"), before.encode());
                assertEquals(1, before.getLong("hits"), before.encode());
                assertEquals(before.getLong("cacheBytes"), before.getLong("bytesFetched"), before.encode());
                assertEquals(0, before.getLong("bytesServedFromCache"), before.encode());

                HttpResponse<byte[]> evicted = m.post("/api/mirror/evict", new byte[0]);
                assertEquals(200, evicted.statusCode());
                JsonObject pass = new JsonObject(new String(evicted.body(), StandardCharsets.UTF_8));
                assertEquals(4, pass.getInteger("evictedItems"), pass.encode());
                assertEquals(imageBytes, pass.getLong("evictedBytes"), pass.encode());
                assertEquals(3, pass.getInteger("blobsDeleted"), "the mounted layer keeps its bytes: " + pass.encode());

                JsonObject after = upstreamStatus(m);
                assertEquals(8, after.getLong("cacheItems"));
                assertTrue(after.getLong("cacheBytes") <= 500_000, after.encode());
                assertEquals(4, after.getLong("evictions"));
                for (String blob : b.blobs()) {
                    assertEquals(blob.equals(shared), onDisk(mirrorStorage, blob), blob);
                }
                for (Image kept : List.of(a, c)) {
                    kept.blobs().forEach(blob -> assertTrue(onDisk(mirrorStorage, blob), blob));
                }
                assertFalse(onDisk(mirrorStorage, b.digest()));

                String metrics = new String(m.get("/metrics").body(), StandardCharsets.UTF_8);
                assertTrue(metrics.contains("berth_mirror_requests_total{result=\"hit\",upstream=\"up\"} 1.0"), metrics);
                assertTrue(metrics.contains("berth_mirror_cache_bytes{upstream=\"up\"} " + after.getLong("cacheBytes") + ".0"), metrics);
                assertTrue(metrics.contains("berth_mirror_evictions_total{upstream=\"up\"} 4.0"), metrics);

                // The upstream goes away: what is cached still pulls, what was evicted is a clear error.
                upstream.close();
                upstream = null;
                pull(m, a);
                pull(m, c);
                assertError(m.get("/v2/up/library/b/manifests/" + b.digest(), "Accept", OCI_MANIFEST), 503, "UNAVAILABLE");
                assertError(m.get("/v2/up/library/b/blobs/" + b.blobs().get(0)), 503, "UNAVAILABLE");
                // The local repository still serves the layer it mounted.
                HttpResponse<byte[]> local = m.get("/v2/team/app/blobs/" + shared);
                assertEquals(200, local.statusCode());
                assertEquals(shared, RegistryClient.sha256(local.body()));
                JsonObject end = upstreamStatus(m);
                assertTrue(end.getLong("errors") >= 2, end.encode());
                // a and c came whole from the cache (the three images are the same size).
                assertEquals(2 * imageBytes, end.getLong("bytesServedFromCache"), end.encode());
            }
        } finally {
            if (upstream != null) {
                upstream.close();
            }
        }
    }

    @Test
    void withoutUpstreamsTheMirrorApiSaysSo() throws Exception {
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("plain"))) {
            RegistryClient c = berth.client();
            HttpResponse<byte[]> status = c.get("/api/mirror");
            assertEquals(200, status.statusCode());
            assertEquals(0, new JsonObject(new String(status.body(), StandardCharsets.UTF_8)).getJsonArray("upstreams").size());
            HttpResponse<byte[]> evict = c.post("/api/mirror/evict", new byte[0]);
            assertEquals(404, evict.statusCode());
            assertTrue(new String(evict.body(), StandardCharsets.UTF_8).contains("\"mirror\""));
        }
    }
}
