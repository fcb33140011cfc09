package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.db.Database;
import dev.berth.deploy.state.ControlPlaneSchema;
import dev.berth.testing.TestClock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A control plane with simulated nodes and no containers, on a clock the test moves: the rollout
 * engine's test harness. Each {@link #step} lets every node act once on what the controller wants
 * (start what it was given, stop what it was told to), then moves the clock one second and runs the
 * controller's periodic step. How a task behaves is decided by its image, through {@link Behaviour}.
 */
final class SimulatedCluster implements AutoCloseable {
    /** What a task of an image does on a node. */
    enum Behaviour {
        /** Starts, runs, passes its health check. */
        HEALTHY,
        /** Never starts (bad image): reported STOPPED before RUNNING. */
        FAILS_TO_START,
        /** Starts, then its essential container exits before its health check passes. */
        CRASHES,
        /** Starts, but its health check fails. */
        UNHEALTHY
    }

    /** Settable clock. */
    final TestClock clock = new TestClock(Instant.parse("2026-06-01T00:00:00Z"));
    private final Vertx vertx = Vertx.vertx();
    private final Path dbFile;
    private Database db;
    ControlPlane controlPlane;
    private final Function<String, Behaviour> behaviour;
    final Map<String, String> nodes = new LinkedHashMap<>();
    final List<String> silent = new ArrayList<>();
    /** Steps each task has been RUNNING on its node. */
    private final Map<String, Integer> age = new HashMap<>();
    final String cluster = "default";

    SimulatedCluster(Path dir, Function<String, Behaviour> behaviour) throws Exception {
        this.dbFile = dir.resolve("state.db");
        this.behaviour = behaviour;
        open();
    }

    private void open() throws Exception {
        db = Database.open(vertx, dbFile.toString(), false, ControlPlaneSchema.MIGRATIONS);
        // Every tag resolves to a digest of its own name: pinned images say which tag they came from.
        // 127.0.0.1:5000 stands for this registry: pushes (Push.local) concern images named with it.
        controlPlane = await(ControlPlane.start(vertx, db, clock, new Random(7), new ImageResolver() {
            @Override
            public Future<String> resolve(dev.berth.deploy.model.ImageReference image) {
                return Future.succeededFuture(image.tag() == null ? null : digestOf(image.tag()));
            }

            @Override
            public boolean isThisRegistry(String registry) {
                return "127.0.0.1:5000".equals(registry);
            }
        }));
    }

    static String digestOf(String tag) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(tag.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As after a crash of the controller: everything in memory is gone; the database stays. */
    void restartController() throws Exception {
        db.close();
        open();
    }

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    JsonObject call(String action, JsonObject request) throws Exception {
        return new JsonObject(await(controlPlane.action(action).call(request.encode())).toString());
    }

    String addNode(String name, int cpu, int memory) throws Exception {
        String id = call("RegisterContainerInstance", new JsonObject().put("cluster", cluster).put("hostname", name)
                .put("totalResources", new JsonObject().put("cpu", cpu).put("memory", memory)))
                .getJsonObject("containerInstance").getString("containerInstanceArn");
        nodes.put(name, id);
        return id;
    }

    void registerTaskDefinition(String family, String image, boolean healthCheck, int memory) throws Exception {
        JsonObject container = new JsonObject().put("name", "app").put("image", image).put("memory", memory)
                .put("portMappings", new JsonArray().add(new JsonObject().put("containerPort", 80)));
        if (healthCheck) {
            container.put("healthCheck", new JsonObject().put("command", new JsonArray().add("CMD-SHELL").add("true")));
        }
        call("RegisterTaskDefinition", new JsonObject().put("family", family)
                .put("containerDefinitions", new JsonArray().add(container)));
    }

    List<JsonObject> tasks(String service) throws Exception {
        List<JsonObject> out = new ArrayList<>();
        JsonObject filter = new JsonObject().put("cluster", cluster);
        if (service != null) {
            filter.put("serviceName", service);
        }
        JsonArray ids = call("ListTasks", filter).getJsonArray("taskArns");
        for (int i = 0; i < ids.size(); i += 100) {
            JsonArray chunk = new JsonArray(ids.getList().subList(i, Math.min(ids.size(), i + 100)));
            call("DescribeTasks", new JsonObject().put("cluster", cluster).put("tasks", chunk)).getJsonArray("tasks")
                    .forEach(t -> out.add((JsonObject) t));
        }
        return out;
    }

    JsonObject service(String name) throws Exception {
        return call("DescribeServices", new JsonObject().put("cluster", cluster).put("services", new JsonArray().add(name)))
                .getJsonArray("services").getJsonObject(0);
    }

    /** Every node acts once, then one second passes and the controller takes its periodic step. */
    void step() throws Exception {
        for (JsonObject t : tasks(null)) {
            String node = t.getString("containerInstanceArn");
            if (node == null || silent.contains(node) || "STOPPED".equals(t.getString("lastStatus"))) {
                continue;
            }
            String id = t.getString("taskArn");
            String image = t.getJsonArray("containers").getJsonObject(0).getString("image");
            Behaviour b = behaviour.apply(image);
            JsonObject report = new JsonObject().put("cluster", cluster).put("task", id);
            if ("STOPPED".equals(t.getString("desiredStatus"))) {
                call("SubmitTaskStateChange", report.put("status", "STOPPED").put("containers", new JsonArray()
                        .add(new JsonObject().put("containerName", "app").put("status", "STOPPED").put("exitCode", 0))));
                continue;
            }
            switch (t.getString("lastStatus")) {
                case "PENDING" -> {
                    if (b == Behaviour.FAILS_TO_START) {
                        call("SubmitTaskStateChange", report.put("status", "STOPPED")
                                .put("reason", "CannotPullContainerError: " + image));
                    } else {
                        call("SubmitTaskStateChange", report.put("status", "RUNNING"));
                    }
                }
                case "RUNNING" -> {
                    int steps = age.merge(id, 1, Integer::sum);
                    if (b == Behaviour.CRASHES && steps >= 1) {
                        call("SubmitTaskStateChange", report.put("status", "STOPPED").put("containers", new JsonArray()
                                .add(new JsonObject().put("containerName", "app").put("status", "STOPPED").put("exitCode", 1))));
                    } else if (b == Behaviour.UNHEALTHY) {
                        call("SubmitTaskStateChange", report.put("status", "RUNNING").put("healthStatus", "UNHEALTHY"));
                    } else if (!"HEALTHY".equals(t.getString("healthStatus"))) {
                        call("SubmitTaskStateChange", report.put("status", "RUNNING").put("healthStatus", "HEALTHY"));
                    }
                }
                default -> {
                }
            }
        }
        for (String node : nodes.values()) {
            if (!silent.contains(node)) {
                call("SubmitHeartbeat", new JsonObject().put("cluster", cluster).put("containerInstance", node));
            }
        }
        clock.advance(Duration.ofSeconds(1));
        await(controlPlane.tick());
    }

    /** Steps until {@code done} holds, checking {@code invariant} after every step; fails after {@code max} steps. */
    int stepUntil(int max, Check done, Check invariant) throws Exception {
        for (int i = 1; i <= max; i++) {
            step();
            invariant.check();
            if (done.holds()) {
                return i;
            }
        }
        assertTrue(done.holds(), "not done after " + max + " steps");
        return max;
    }

    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;

        default void check() throws Exception {
            holds();
        }
    }

    @Override
    public void close() throws Exception {
        db.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
