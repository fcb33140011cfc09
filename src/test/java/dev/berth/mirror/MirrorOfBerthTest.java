package dev.berth.mirror;

import static dev.berth.testing.Fixtures.DOCKER_LIST;
import static dev.berth.testing.Fixtures.DOCKER_MANIFEST;
import static dev.berth.testing.Fixtures.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.testing.Fixtures;
import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One Berth mirroring another (anonymous upstream): an image and a manifest list, byte-exact. */
class MirrorOfBerthTest {
    @TempDir
    Path tmp;

    /** A Berth mirroring {@code upstream} under the prefix {@code up/}, with {@code extra} in the upstream's entry. */
    private TestRegistry mirrorOf(TestRegistry upstream, String extra) throws Exception {
        Path config = tmp.resolve("berth.yaml");
        Files.writeString(config, """
                mirror:
                  upstreams:
                    - name: up
                      url: %s
                      prefix: up/
                      %s
                """.formatted(upstream.baseUrl(), extra));
        return TestRegistry.start(tmp.resolve("mirror"), config, Map.of());
    }

    @Test
    void aManifestListItsImagesAndTheirBlobsComeThroughByteExact() throws Exception {
        try (TestRegistry upstream = TestRegistry.start(tmp.resolve("upstream"))) {
            RegistryClient up = upstream.client();
            Image amd = Fixtures.pushImage(up, "team/app", "amd", 2, true, "amd64");
            Image arm = Fixtures.pushImage(up, "team/app", "arm", 3, true, "arm64");
            byte[] list = Fixtures.index(DOCKER_LIST, DOCKER_MANIFEST, List.of(amd, arm), List.of("amd64", "arm64"));
            String listDigest = up.pushManifest("team/app", "v1", DOCKER_LIST, list);

            try (TestRegistry mirror = mirrorOf(upstream, "")) {
                RegistryClient c = mirror.client();
                HttpResponse<byte[]> got = c.get("/v2/up/team/app/manifests/v1", "Accept", DOCKER_LIST + ", " + DOCKER_MANIFEST);
                assertEquals(200, got.statusCode());
                assertEquals(DOCKER_LIST, header(got, "Content-Type"));
                assertEquals(listDigest, header(got, "Docker-Content-Digest"));
                assertArrayEquals(list, got.body());
                for (Image image : List.of(amd, arm)) {
                    HttpResponse<byte[]> child = c.get("/v2/up/team/app/manifests/" + image.digest(), "Accept", DOCKER_MANIFEST);
                    assertEquals(200, child.statusCode());
                    assertArrayEquals(image.manifest(), child.body());
                    for (String blob : image.layerDigests()) {
                        assertEquals(blob, RegistryClient.sha256(c.get("/v2/up/team/app/blobs/" + blob).body()));
                    }
                    HttpResponse<byte[]> config2 = c.get("/v2/up/team/app/blobs/" + image.configDigest());
                    assertEquals(image.configDigest(), RegistryClient.sha256(config2.body()));
                }
                // HEAD by tag answers from the cache with the upstream's digest.
                assertEquals(listDigest, header(c.head("/v2/up/team/app/manifests/v1", "Accept", DOCKER_LIST), "Docker-Content-Digest"));
            }
        }
    }

    @Test
    void aManifestAskedForBySha512IsKeptUnderThatDigestAndServedFromTheCacheAfterwards() throws Exception {
        try (TestRegistry upstream = TestRegistry.start(tmp.resolve("upstream"))) {
            RegistryClient up = upstream.client();
            Image image = Fixtures.pushImage(up, "team/app", "v1", 1, true, "amd64");
            String sha512 = RegistryClient.sha512(image.manifest());
            RegistryClient.expect(up.put("/v2/team/app/manifests/" + sha512, image.manifest(),
                    "Content-Type", DOCKER_MANIFEST), 201);
            try (TestRegistry mirror = mirrorOf(upstream, "")) {
                RegistryClient c = mirror.client();
                for (int i = 0; i < 2; i++) {
                    HttpResponse<byte[]> got = c.get("/v2/up/team/app/manifests/" + sha512, "Accept", DOCKER_MANIFEST);
                    assertEquals(200, got.statusCode());
                    assertEquals(sha512, header(got, "Docker-Content-Digest"));
                    assertArrayEquals(image.manifest(), got.body());
                }
                io.vertx.core.json.JsonObject stats = Fixtures.json(c.get("/api/mirror")).getJsonArray("upstreams")
                        .getJsonObject(0);
                assertEquals(1, stats.getLong("misses"), stats.encode());
                assertEquals(1, stats.getLong("hits"), "the second request came from the cache: " + stats.encode());
            }
        }
    }

    @Test
    void anUpstreamThatAllowsPushesKeepsWhatIsPushedUnderItsNamesLocallyAndServesItFirst() throws Exception {
        try (TestRegistry upstream = TestRegistry.start(tmp.resolve("upstream"))) {
            Image theirs = Fixtures.pushImage(upstream.client(), "team/app", "v1");
            try (TestRegistry mirror = mirrorOf(upstream, "allowPush: true")) {
                RegistryClient c = mirror.client();
                // Pushed under the upstream's prefix: accepted, kept locally, served from there.
                Image ours = Fixtures.pushImage(c, "up/team/own", "v1");
                HttpResponse<byte[]> own = c.get("/v2/up/team/own/manifests/v1", "Accept", ours.mediaType());
                assertEquals(200, own.statusCode());
                assertEquals(ours.digest(), header(own, "Docker-Content-Digest"));
                assertEquals(ours.layerDigests().get(0),
                        RegistryClient.sha256(c.get("/v2/up/team/own/blobs/" + ours.layerDigests().get(0)).body()));
                assertEquals(404, upstream.client().get("/v2/team/own/manifests/v1", "Accept", ours.mediaType()).statusCode());
                // What is not local still comes from the upstream.
                HttpResponse<byte[]> mirrored = c.get("/v2/up/team/app/manifests/v1", "Accept", theirs.mediaType());
                assertEquals(theirs.digest(), header(mirrored, "Docker-Content-Digest"));
                // The cache itself stays read-only.
                Fixtures.assertError(c.post("/v2/up.mirror/team/app/blobs/uploads/", new byte[0]), 403, "DENIED");

                // As a real client pushes a new tag of the upstream's repository: it asks with HEAD for each
                // blob, skips those that exist (the upstream has them), and pushes the manifest.
                List<String> blobs = new java.util.ArrayList<>(theirs.layerDigests());
                blobs.add(theirs.configDigest());
                for (String blob : blobs) {
                    assertEquals(200, c.head("/v2/up/team/app/blobs/" + blob).statusCode(), blob);
                }
                HttpResponse<byte[]> put = c.put("/v2/up/team/app/manifests/patched", theirs.manifest(),
                        "Content-Type", theirs.mediaType());
                assertEquals(201, put.statusCode(), new String(put.body(), java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(theirs.digest(), header(c.get("/v2/up/team/app/manifests/patched", "Accept", theirs.mediaType()),
                        "Docker-Content-Digest"));

                // A blob the upstream does not have, or cannot say about, is the local repository's
                // to answer: 404, so that the client uploads it (not 503, which stops a push).
                String missing = "sha256:" + "0".repeat(64);
                Fixtures.assertError(c.head("/v2/up/team/derived/blobs/" + missing), 404, null);
                upstream.close();
                Fixtures.assertError(c.head("/v2/up/team/newer/blobs/" + missing), 404, null);
                Image later = Fixtures.pushImage(c, "up/team/newer", "v1");
                assertEquals(later.digest(), header(c.get("/v2/up/team/newer/manifests/v1", "Accept", later.mediaType()),
                        "Docker-Content-Digest"));
            }
        }
    }
}
