package dev.berth.registry;

import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Upload sessions across restarts, and the purge of abandoned ones. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class UploadLifecycleTest {
    @TempDir
    Path storage;

    @Test
    void aSessionSurvivesARestartAndResumesWhereItStood() throws Exception {
        byte[] blob = randomBytes(3 * 1024 * 1024 + 5);
        String location;
        try (TestRegistry first = TestRegistry.start(storage)) {
            RegistryClient c = first.client();
            location = header(c.post("/v2/resume/repo/blobs/uploads/", new byte[0]), "Location");
            expect(c.patch(location, Arrays.copyOfRange(blob, 0, 1_000_000), "Content-Range", "0-999999"), 202);
        }
        try (TestRegistry second = TestRegistry.start(storage)) {
            RegistryClient c = second.client();
            HttpResponse<byte[]> status = c.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-999999", header(status, "Range"));
            // The hashing state was rebuilt from the stored bytes: the final digest must verify.
            expect(c.patch(location, Arrays.copyOfRange(blob, 1_000_000, 2_000_000), "Content-Range", "1000000-1999999"), 202);
            expect(c.put(withQuery(location, "digest=" + sha256(blob)), Arrays.copyOfRange(blob, 2_000_000, blob.length)), 201);
            assertArrayEquals(blob, c.get("/v2/resume/repo/blobs/" + sha256(blob)).body());
        }
    }

    @Test
    void aWrongDigestAfterARestartIsStillDetected() throws Exception {
        byte[] blob = randomBytes(10_000);
        String location;
        try (TestRegistry first = TestRegistry.start(storage)) {
            location = header(first.client().post("/v2/resume/bad/blobs/uploads/", new byte[0]), "Location");
            expect(first.client().patch(location, blob), 202);
        }
        try (TestRegistry second = TestRegistry.start(storage)) {
            byte[] other = blob.clone();
            other[0] ^= 1;
            HttpResponse<byte[]> r = second.client().put(withQuery(location, "digest=" + sha256(other)), new byte[0]);
            assertEquals(400, r.statusCode());
            assertEquals(404, second.client().head("/v2/resume/bad/blobs/" + sha256(other)).statusCode());
        }
    }

    @Test
    void abandonedSessionsArePurgedAfterTheConfiguredAge() throws Exception {
        Map<String, String> quickPurge = Map.of("storage.uploads.purgeAfter", "2s", "storage.uploads.purgeInterval", "200ms");
        try (TestRegistry registry = TestRegistry.start(storage, quickPurge)) {
            RegistryClient c = registry.client();
            String old = header(c.post("/v2/purge/repo/blobs/uploads/", new byte[0]), "Location");
            expect(c.patch(old, randomBytes(5000)), 202);
            Thread.sleep(1500);
            String young = header(c.post("/v2/purge/repo/blobs/uploads/", new byte[0]), "Location");
            // Wait until the old one is gone (at most a few purge rounds after it turned 2 s old).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (c.get(old).statusCode() != 404 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(404, c.get(old).statusCode(), "the abandoned session is purged");
            assertEquals(204, c.get(young).statusCode(), "a session younger than purgeAfter stays");
            assertFalse(uploadDirectoryOf(old).isPresent(), "its data is deleted");
            assertTrue(uploadDirectoryOf(young).isPresent());
        }
    }

    private java.util.Optional<Path> uploadDirectoryOf(String location) throws Exception {
        String uuid = location.substring(location.lastIndexOf('/') + 1);
        try (Stream<Path> walk = Files.walk(storage)) {
            return walk.filter(p -> p.getFileName().toString().equals(uuid)).findFirst();
        }
    }
}
