package dev.berth.testing;

import dev.berth.app.BerthServer;
import dev.berth.config.BerthConfig;
import dev.berth.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A real Berth server for a test: in-process, on 127.0.0.1 and a free port, storing under a
 * directory the test owns. Close it to stop it.
 */
public final class TestRegistry implements AutoCloseable {
    private final BerthServer server;
    private final Path storage;

    private TestRegistry(BerthServer server, Path storage) {
        this.server = server;
        this.storage = storage;
    }

    /** Starts a server on {@code storage} with the given extra config overrides (dotted keys). */
    public static TestRegistry start(Path storage, Map<String, String> overrides) throws IOException {
        return start(storage, null, overrides);
    }

    /**
     * Starts a server on {@code storage} with a YAML configuration file (for lists such as webhook
     * endpoints) and overrides; listen address, storage and quiet logging are always overridden.
     */
    public static TestRegistry start(Path storage, Path configFile, Map<String, String> overrides) throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("http.listen", "127.0.0.1:0");
        all.put("storage.root", storage.toString());
        all.put("log.requests", "false");
        all.put("http.shutdownTimeout", "2s");
        // No embedded agent unless a test asks for one: nodes would appear in every test's cluster.
        all.put("agent.embedded", "false");
        all.putAll(overrides);
        BerthConfig config = new ConfigLoader().load(configFile, configFile != null, Map.of(), all);
        return new TestRegistry(BerthServer.start(config), storage);
    }

    public static TestRegistry start(Path storage) throws IOException {
        return start(storage, Map.of());
    }

    public int port() {
        return server.port();
    }

    /** {@code 127.0.0.1:PORT}, as docker and skopeo want it. */
    public String hostPort() {
        return "127.0.0.1:" + port();
    }

    public String baseUrl() {
        return "http://" + hostPort();
    }

    public Path storage() {
        return storage;
    }

    public RegistryClient client() {
        return new RegistryClient(baseUrl());
    }

    public BerthServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }
}
