package dev.berth.bench;

import dev.berth.testing.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An S3 API server (s3proxy over a directory) on 127.0.0.1 for benchmarks, until killed.
 * Arguments: PORT DIR BUCKET. Credentials: {@link S3ProxyServer#ACCESS} / {@link S3ProxyServer#SECRET}.
 */
public final class S3ProxyMain {
    private S3ProxyMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: S3ProxyMain PORT DIR BUCKET");
            System.exit(2);
        }
        Path dir = Files.createDirectories(Path.of(args[1]));
        S3ProxyServer server = S3ProxyServer.startOnDisk(dir, Integer.parseInt(args[0]), args[2]);
        System.out.println("s3proxy serving " + server.endpoint() + " bucket " + args[2] + " in " + dir);
        Thread.currentThread().join();
    }
}
