package dev.berth.app;

import dev.berth.agent.Agent;
import dev.berth.agent.docker.DockerEngine;
import dev.berth.deploy.model.Attribute;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth agent}: turn this Docker host into capacity for a Berth controller. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run tasks on this Docker host for a Berth controller (registers once with a join token,"
                + " then keeps a session; the registration is kept in --state-dir).")
final class AgentCommand implements Callable<Integer> {
    @Option(names = "--controller", paramLabel = "URL", required = true, description = "The controller, e.g. http://berth:5000.")
    String controller;

    @Option(names = "--join-token", paramLabel = "TOKEN", defaultValue = "${env:BERTH_JOIN_TOKEN}",
            description = "From `berth cluster join-token` (needed the first time; or $BERTH_JOIN_TOKEN).")
    String joinToken;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "storage/agent",
            description = "Where the agent keeps its registration and tasks (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--ca-file", paramLabel = "PEM", defaultValue = "${env:BERTH_CA_FILE:-}",
            description = "Trust the certificates in this PEM file for an https controller (e.g. its storage/pki/ca.crt), "
                    + "instead of the system's.")
    String caFile;

    @Option(names = "--docker-socket", paramLabel = "PATH", defaultValue = DockerEngine.DEFAULT_SOCKET)
    String dockerSocket;

    @Option(names = "--attribute", paramLabel = "NAME=VALUE", description = "A node attribute (repeatable).")
    Map<String, String> attributes = Map.of();

    @Option(names = "--hostname", paramLabel = "NAME", description = "How the node is named (default: this host's name).")
    String hostname;

    @Option(names = "--cpu", paramLabel = "UNITS", description = "CPU units to offer (default: 1024 per core).")
    Integer cpu;

    @Option(names = "--memory", paramLabel = "MIB", description = "Memory to offer in MiB (default: all but 256 MiB).")
    Integer memory;

    @Override
    public Integer call() throws Exception {
        LogSetup.apply(new dev.berth.config.BerthConfig.LogConfig("info", "text", true));
        String name = hostname != null ? hostname : InetAddress.getLocalHost().getHostName();
        List<Attribute> attrs = new ArrayList<>();
        attributes.forEach((k, v) -> attrs.add(new Attribute(k, v)));
        String url = controller.endsWith("/") ? controller.substring(0, controller.length() - 1) : controller;
        Agent.ClientTls tls = null;
        if (caFile != null && !caFile.isEmpty()) {
            try {
                // Read and checked here, so that a wrong file is reported before anything starts.
                tls = new Agent.ClientTls(dev.berth.auth.Pem.encode(dev.berth.auth.Pem.readCertificates(Path.of(caFile))), true);
            } catch (java.io.IOException e) {
                System.err.println("berth agent: --ca-file: " + e.getMessage());
                return 2;
            }
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        Agent agent;
        try {
            agent = Agent.start(vertx, new Agent.Options(url, joinToken, stateDir, dockerSocket, name, attrs, cpu, memory, tls))
                    .await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("berth agent: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            vertx.close();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.stop().await(10, TimeUnit.SECONDS);
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // shutting down anyway
            }
            stopped.countDown();
        }, "berth-agent-shutdown"));
        stopped.await();
        return 0;
    }
}
