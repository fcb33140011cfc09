package dev.berth.storage.s3;

import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageDriverContract;
import dev.berth.testing.S3ProxyServer;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The shared driver contract, unchanged, on a real S3 API server (s3proxy in-process). */
class S3DriverTest implements StorageDriverContract {
    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3ProxyServer.start("berth");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Override
    public StorageDriver newDriver() {
        // Each test its own prefix in the bucket: the contract sees an empty store every time.
        return new S3Driver(server.client(), server.presigner(), "berth", "t-" + UUID.randomUUID() + "/",
                S3Driver.MIN_PART_SIZE);
    }
}
