package dev.berth.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * CNCF distribution 2.8 (Debian's {@code docker-registry}) on 127.0.0.1 and a free port, storing
 * under a test directory, optionally behind htpasswd basic auth (bcrypt, made with {@code htpasswd
 * -B}). Close it to stop it.
 */
public final class ReferenceRegistry implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private ReferenceRegistry(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts one in {@code dir}; with a non-null {@code user}, only that user (and password) may use it. */
    public static ReferenceRegistry start(Path dir, String user, String password) throws Exception {
        RequiredTools.dockerRegistry();
        int port = BerthProcess.freePort();
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder("""
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                """.formatted(dir.resolve("data"), port));
        if (user != null) {
            RequiredTools.htpasswd();
            ExternalCommand.Result r = ExternalCommand.run(java.util.List.of("htpasswd", "-Bbn", user, password),
                    java.util.Map.of(), dir, Duration.ofSeconds(30));
            if (r.exitCode() != 0) {
                throw new IllegalStateException("htpasswd failed: " + r);
            }
            Files.writeString(dir.resolve("htpasswd"), r.stdout().strip() + "\n");
            config.append("""
                    auth:
                      htpasswd:
                        realm: berth-test
                        path: %s
                    """.formatted(dir.resolve("htpasswd")));
        }
        Path configFile = dir.resolve("config.yml");
        Files.writeString(configFile, config.toString());
        Path log = dir.resolve("registry.log");
        Process p = new ProcessBuilder("docker-registry", "serve", configFile.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        ReferenceRegistry registry = new ReferenceRegistry(p, port, log);
        registry.awaitReady();
        return registry;
    }

    private void awaitReady() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited:\n" + output());
            }
            try {
                int status = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || status == 401) {
                    return;
                }
            } catch (IOException e) {
                // not yet
            }
            Thread.sleep(100);
        }
        close();
        throw new IllegalStateException("docker-registry did not answer:\n" + output());
    }

    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public String baseUrl() {
        return "http://" + hostPort();
    }

    /** What it logged (one line per request). */
    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
