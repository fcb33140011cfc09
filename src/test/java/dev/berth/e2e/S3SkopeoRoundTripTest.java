package dev.berth.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.S3ProxyServer;
import dev.berth.testing.TestRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The skopeo round trips, unchanged, with blobs in S3 (s3proxy on loopback) and the default
 * presigned redirects: skopeo follows each blob GET's 307 to the S3 server.
 */
class S3SkopeoRoundTripTest extends SkopeoRoundTripTest {
    private static S3ProxyServer s3;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyServer.start("berth");
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    @Override
    TestRegistry newRegistry(Path storage) throws Exception {
        return TestRegistry.start(storage, s3.berthConfig("berth", "skopeo-" + UUID.randomUUID()));
    }

    @AfterEach
    void blobsCameFromS3() {
        if (registry() == null) {
            return; // did not start; the failure is reported already
        }
        // Runs before the superclass stops the registry: the content really went to S3.
        Map<String, Long> requests = registry().server().storageDriver().requestCounts();
        assertTrue(requests.getOrDefault("CompleteMultipartUpload", 0L) + requests.getOrDefault("PutObject", 0L) > 0,
                "S3 requests: " + requests);
    }
}
