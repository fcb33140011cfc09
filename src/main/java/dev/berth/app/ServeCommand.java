package dev.berth.app;

import dev.berth.config.BerthConfig;
import dev.berth.config.ConfigException;
import dev.berth.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth serve}: the registry (and later the control plane) until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the registry server.")
final class ServeCommand implements Callable<Integer> {
    static final Path DEFAULT_CONFIG = Path.of("config", "berth.yaml");
    private static volatile boolean serving;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file (default: ${DEFAULT-VALUE}, or $BERTH_CONFIG).",
            defaultValue = "${env:BERTH_CONFIG:-config/berth.yaml}")
    Path configFile;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (http.listen).")
    String listen;

    @Option(names = "--storage", paramLabel = "DIR", description = "Data directory (storage.root).")
    String storage;

    /**
     * The configuration from {@code configFile}, the environment and {@code overrides}; a missing file
     * is an error only when it was named (not the default {@code config/berth.yaml}).
     */
    static BerthConfig loadConfig(Path configFile, Map<String, String> overrides) {
        boolean explicit = !configFile.equals(DEFAULT_CONFIG) || System.getenv("BERTH_CONFIG") != null;
        return new ConfigLoader().load(configFile, explicit, System.getenv(), overrides);
    }

    static boolean isServing() {
        return serving;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> overrides = new LinkedHashMap<>();
        if (listen != null) {
            overrides.put("http.listen", listen);
        }
        if (storage != null) {
            overrides.put("storage.root", storage);
        }
        BerthConfig config;
        try {
            config = loadConfig(configFile, overrides);
        } catch (ConfigException e) {
            System.err.println("berth: configuration error: " + e.getMessage());
            return 2;
        }
        LogSetup.apply(config.log());
        Logger log = LoggerFactory.getLogger(ServeCommand.class);
        if (Files.exists(configFile)) {
            log.atInfo().addKeyValue("file", configFile).log("configuration loaded");
        }
        BerthServer server;
        try {
            server = BerthServer.start(config);
        } catch (Exception e) {
            log.atError().setCause(e).log("cannot start");
            LogSetup.flush();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutting down");
            server.close();
            LogSetup.flush();
            stopped.countDown();
        }, "berth-shutdown"));
        serving = true;
        stopped.await();
        return 0;
    }
}
