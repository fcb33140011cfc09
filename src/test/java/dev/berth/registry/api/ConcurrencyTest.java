package dev.berth.registry.api;

import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many clients at once against one server: the same blob, manifest or tag pushed concurrently. */
class ConcurrencyTest {
    @TempDir
    static Path storage;
    static TestRegistry registry;
    static ExecutorService clients;

    @BeforeAll
    static void start() throws Exception {
        registry = TestRegistry.start(storage);
        clients = Executors.newFixedThreadPool(16);
    }

    @AfterAll
    static void stop() {
        clients.shutdownNow();
        registry.close();
    }

    private static <T> List<T> all(int n, Callable<T> task) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(clients.submit(task));
        }
        List<T> results = new ArrayList<>();
        for (Future<T> f : futures) {
            results.add(f.get());
        }
        return results;
    }

    @Test
    void theNextRequestOnAnotherConnectionFindsTheSessionFree() {
        // Each client has its own connections, so the PUT may land on another event loop than the PATCH.
        RegistryClient a = registry.client();
        RegistryClient b = registry.client();
        for (int i = 0; i < 100; i++) {
            byte[] blob = randomBytes(2000 + i);
            HttpResponse<byte[]> start = a.post("/v2/race/repo/blobs/uploads/", new byte[0]);
            HttpResponse<byte[]> patched = a.patch(header(start, "Location"), blob);
            expect(patched, 202);
            expect(b.put(withQuery(header(patched, "Location"), "digest=" + sha256(blob)), new byte[0]), 201);
        }
    }

    @Test
    void theSameBlobPushedBySixteenClientsAtOnce() throws Exception {
        byte[] blob = randomBytes(1 << 20);
        List<String> digests = all(16, () -> registry.client().pushBlob("same/blob", blob));
        assertEquals(Set.of(sha256(blob)), Set.copyOf(digests));
        List<String> elsewhere = all(16, () -> registry.client().pushBlob("same/blob" + Thread.currentThread().getId(), blob));
        assertEquals(Set.of(sha256(blob)), Set.copyOf(elsewhere));
        assertArrayEquals(blob, registry.client().get("/v2/same/blob/blobs/" + sha256(blob)).body());
        assertTrue(uploadSessionsLeft().isEmpty(), "finished uploads leave no session behind");
    }

    @Test
    void theSameManifestAndTagPushedBySixteenClientsAtOnce() throws Exception {
        RegistryClient c = registry.client();
        Image image = pushImage(c, "same/manifest", "seed");
        List<Integer> statuses = all(16, () -> registry.client().put("/v2/same/manifest/manifests/v1", image.manifest(),
                "Content-Type", OCI_MANIFEST).statusCode());
        assertEquals(Set.of(201), Set.copyOf(statuses));
        HttpResponse<byte[]> get = c.get("/v2/same/manifest/manifests/v1");
        assertArrayEquals(image.manifest(), get.body());
        assertEquals(image.digest(), header(get, "Docker-Content-Digest"));
    }

    @Test
    void aTagMovedByManyClientsEndsOnOneOfTheirManifests() throws Exception {
        RegistryClient c = registry.client();
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            images.add(pushImage(c, "moving/tag", "img" + i));
        }
        all(32, () -> {
            Image pick = images.get((int) (Math.random() * images.size()));
            return registry.client().put("/v2/moving/tag/manifests/latest", pick.manifest(), "Content-Type", OCI_MANIFEST)
                    .statusCode();
        });
        HttpResponse<byte[]> latest = c.get("/v2/moving/tag/manifests/latest");
        String digest = header(latest, "Docker-Content-Digest");
        assertEquals(sha256(latest.body()), digest);
        assertTrue(images.stream().anyMatch(img -> img.digest().equals(digest)));
    }

    @Test
    void deleteAndPushOfTheSameManifestNeverLeaveADanglingTagOrFail() throws Exception {
        RegistryClient c = registry.client();
        Image image = pushImage(c, "race/delete", "t");
        for (int round = 0; round < 100; round++) {
            Future<HttpResponse<byte[]>> delete = clients.submit(() ->
                    registry.client().delete("/v2/race/delete/manifests/" + image.digest()));
            Future<HttpResponse<byte[]>> push = clients.submit(() -> registry.client().put(
                    "/v2/race/delete/manifests/t", image.manifest(), "Content-Type", OCI_MANIFEST));
            int deleted = delete.get().statusCode();
            int pushed = push.get().statusCode();
            assertTrue(deleted == 202 || deleted == 404, "delete gave " + deleted);
            assertEquals(201, pushed, "push gave " + pushed);
            // Whatever the order, a listed tag resolves.
            boolean listed = c.get("/v2/race/delete/tags/list").statusCode() == 200
                    && new String(c.get("/v2/race/delete/tags/list").body()).contains("\"t\"");
            int get = c.get("/v2/race/delete/manifests/t").statusCode();
            assertEquals(listed ? 200 : 404, get, "round " + round + ": listed=" + listed);
        }
        assertEquals(List.of(), dev.berth.testing.StoreChecker.problems(storage));
    }

    private static List<Path> uploadSessionsLeft() throws Exception {
        try (Stream<Path> walk = Files.walk(storage)) {
            return walk.filter(p -> p.getParent() != null && p.getParent().getFileName() != null
                    && p.getParent().getFileName().toString().equals("_uploads")).collect(Collectors.toList());
        }
    }
}
