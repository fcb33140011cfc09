package dev.berth.registry.api;

import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.Fixtures.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry over the in-memory driver, which has no local files: blobs are streamed in chunks
 * with backpressure instead of sendfile, and nothing touches the disk.
 */
class InMemoryServerTest {
    @TempDir
    Path unused;

    @Test
    void pushAndPullWithoutLocalFiles() throws Exception {
        try (TestRegistry registry = TestRegistry.start(unused, Map.of("storage.driver", "inmemory"))) {
            RegistryClient c = registry.client();
            Image image = pushImage(c, "mem/repo", "v1");
            assertArrayEquals(image.manifest(), c.get("/v2/mem/repo/manifests/v1", "Accept", OCI_MANIFEST).body());

            byte[] big = randomBytes(5 * 1024 * 1024 + 3);
            String digest = c.pushBlob("mem/repo", big);
            HttpResponse<byte[]> whole = c.get("/v2/mem/repo/blobs/" + digest);
            assertEquals(200, whole.statusCode());
            assertEquals(Integer.toString(big.length), header(whole, "Content-Length"));
            assertArrayEquals(big, whole.body());

            HttpResponse<byte[]> range = c.get("/v2/mem/repo/blobs/" + digest, "Range", "bytes=1000000-1999999");
            assertEquals(206, range.statusCode());
            assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 2_000_000), range.body());

            HttpResponse<byte[]> head = c.head("/v2/mem/repo/blobs/" + digest);
            assertEquals(Integer.toString(big.length), header(head, "Content-Length"));
        }
        try (Stream<Path> files = Files.walk(unused)) {
            assertEquals(1, files.count(), "nothing was written to disk");
        }
    }
}
