package dev.berth.registry.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.S3ProxyServer;
import dev.berth.testing.TestRegistry;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole spec workflow suite, unchanged, with blobs in S3 (s3proxy on loopback). Blob GETs are
 * proxied here ({@code redirect: false}) so that every status and header is Berth's own;
 * {@code S3RegistryTest} covers the presigned redirects.
 */
class S3SpecWorkflowTest extends SpecWorkflowTest {
    private static S3ProxyServer s3;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start("berth");
        Map<String, String> config = new HashMap<>(s3.berthConfig("berth", "spec"));
        config.put("storage.s3.redirect", "false");
        registry = TestRegistry.start(storage, config);
        client = registry.client();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            // The suite really went through S3: PUTs of blobs and links, GETs of what it read back.
            Map<String, Long> requests = registry.server().storageDriver().requestCounts();
            assertTrue(requests.getOrDefault("PutObject", 0L) > 100 && requests.getOrDefault("GetObject", 0L) > 100,
                    "S3 requests during the suite: " + requests);
        } finally {
            registry.close();
            s3.close();
        }
    }
}
