package dev.berth.agent;

import static dev.berth.agent.AgentRolloutTest.call;
import static dev.berth.agent.AgentRolloutTest.hostPort;
import static dev.berth.agent.AgentRolloutTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.agent.docker.DockerEngine;
import dev.berth.deploy.model.Attribute;
import dev.berth.testing.BusyboxImages;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A separate agent (in-process, its own Vert.x) on the real Docker Engine: restarts adopt running
 * containers without restarting them; reports made while the controller is away arrive when it is
 * back; logs stream through the controller; stops go SIGTERM first; after a partition, a task the
 * controller replaced is stopped only once the controller confirms.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class AgentLifecycleTest {
    @TempDir
    Path tmp;
    private Vertx vertx;
    private final List<String> images = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();
    private final java.util.Set<String> nodes = new java.util.HashSet<>();

    @BeforeEach
    void open() {
        RequiredTools.docker();
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (vertx == null) {
            return; // skipped: no Docker Engine
        }
        for (Agent a : agents) {
            a.stop().otherwiseEmpty().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        BusyboxImages.removeNodesAndImages(nodes, images);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private TestRegistry registry(int port, Map<String, String> extra) throws IOException {
        Map<String, String> overrides = new java.util.HashMap<>(extra);
        overrides.put("http.listen", "127.0.0.1:" + port);
        return TestRegistry.start(tmp.resolve("storage"), overrides);
    }

    private Agent agent(TestRegistry registry, String token) throws Exception {
        Agent a = Agent.start(vertx, new Agent.Options(registry.baseUrl(), token, tmp.resolve("agent"),
                DockerEngine.DEFAULT_SOCKET, "test-node", List.of(new Attribute("zone", "a")), 2048, 2048))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        agents.add(a);
        nodes.add(a.nodeId());
        a.firstSnapshot().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return a;
    }

    private String image(TestRegistry registry) throws Exception {
        String image = registry.hostPort() + "/agent/app-" + UUID.randomUUID().toString().substring(0, 8) + ":v1";
        images.add(image);
        BusyboxImages.buildWebImage(tmp, image, "v1");
        BusyboxImages.docker(tmp, "push", image);
        return image;
    }

    private static void taskDefinition(RegistryClient c, String image) {
        call(c, "RegisterTaskDefinition", new JsonObject().put("family", "app").put("containerDefinitions", new JsonArray()
                .add(new JsonObject().put("name", "app").put("image", image).put("memory", 32)
                        .put("command", new JsonArray().add("sh").add("-c").add("echo hello-logs; exec httpd -f -p 8080 -h /www"))
                        .put("portMappings", new JsonArray().add(new JsonObject().put("containerPort", 8080)))
                        .put("stopTimeout", 5))));
    }

    private static JsonObject task(RegistryClient c, String id) {
        return call(c, "DescribeTasks", new JsonObject().put("tasks", new JsonArray().add(id))).getJsonArray("tasks")
                .getJsonObject(0);
    }

    private static String docker(Path tmp, String... args) throws Exception {
        return BusyboxImages.docker(tmp, args).stdout().strip();
    }

    @Test
    void restartsAdoptContainersReportsWaitForTheControllerLogsStreamAndStopsAreGraceful() throws Exception {
        int port = freePort();
        String taskId;
        String containerId;
        String startedAt;
        Agent agent;
        TestRegistry registry = registry(port, Map.of());
        try {
            RegistryClient c = registry.client();
            String image = image(registry);
            String token = call(c, "CreateJoinToken", new JsonObject()).getString("joinToken");
            agent = agent(registry, token);
            taskDefinition(c, image);
            taskId = call(c, "RunTask", new JsonObject().put("taskDefinition", "app").put("placementConstraints",
                    new JsonArray().add(new JsonObject().put("type", "memberOf").put("expression", "attribute:zone == a"))))
                    .getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            JsonObject running = waitFor("the task RUNNING", Duration.ofSeconds(60), () -> task(c, taskId),
                    t -> "RUNNING".equals(t.getString("lastStatus")) && hostPort(t) != null);
            assertEquals(agent.nodeId(), running.getString("containerInstanceArn"));
            String page = new String(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + hostPort(running) + "/")).build(),
                    HttpResponse.BodyHandlers.ofByteArray()).body(), StandardCharsets.UTF_8).strip();
            assertEquals("v1", page);

            HttpResponse<byte[]> logs = c.get("/api/tasks/" + taskId + "/logs");
            assertEquals(200, logs.statusCode(), () -> new String(logs.body()));
            assertTrue(new String(logs.body(), StandardCharsets.UTF_8).contains("hello-logs"), new String(logs.body()));

            // The same through the CLI: berth task logs TASK.
            java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
            java.io.PrintStream original = System.out;
            int exit;
            try {
                System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
                exit = new picocli.CommandLine(new dev.berth.app.Main()).execute("task", "logs", taskId, "--server",
                        registry.baseUrl());
            } finally {
                System.setOut(original);
            }
            assertEquals(0, exit);
            assertTrue(printed.toString(StandardCharsets.UTF_8).contains("hello-logs"), printed.toString());

            containerId = docker(tmp, "ps", "-q", "--no-trunc", "--filter", "label=dev.berth.task=" + taskId);
            startedAt = docker(tmp, "inspect", "--format", "{{.State.StartedAt}}", containerId);

            // The agent restarts: the container is adopted, not restarted.
            agent.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            agents.remove(agent);
            agent = agent(registry, null);
            assertEquals(startedAt, docker(tmp, "inspect", "--format", "{{.State.StartedAt}}", containerId));
            assertEquals("RUNNING", task(c, taskId).getString("lastStatus"));
        } finally {
            registry.close();
        }

        // The controller is away; the container dies; the agent's report waits and arrives once it is back.
        docker(tmp, "kill", containerId);
        Thread.sleep(3000);
        registry = registry(port, Map.of());
        try {
            RegistryClient c = registry.client();
            JsonObject stopped = waitFor("the queued report", Duration.ofSeconds(60), () -> task(c, taskId),
                    t -> "STOPPED".equals(t.getString("lastStatus")));
            assertEquals("EssentialContainerExited", stopped.getString("stopCode"), stopped.encode());
            assertEquals(137, stopped.getJsonArray("containers").getJsonObject(0).getInteger("exitCode"), stopped.encode());
            waitFor("the dead container removed", Duration.ofSeconds(30), () -> {
                try {
                    return docker(tmp, "ps", "-aq", "--filter", "label=dev.berth.task=" + taskId);
                } catch (Exception e) {
                    return e.toString();
                }
            }, String::isEmpty);

            // A stop: SIGTERM, exit code reported, container removed.
            String second = call(c, "RunTask", new JsonObject().put("taskDefinition", "app")).getJsonArray("tasks")
                    .getJsonObject(0).getString("taskArn");
            waitFor("the second task RUNNING", Duration.ofSeconds(60), () -> task(c, second),
                    t -> "RUNNING".equals(t.getString("lastStatus")));
            call(c, "StopTask", new JsonObject().put("task", second).put("reason", "test over"));
            JsonObject done = waitFor("the second task STOPPED", Duration.ofSeconds(60), () -> task(c, second),
                    t -> "STOPPED".equals(t.getString("lastStatus")));
            assertEquals("UserInitiated", done.getString("stopCode"));
            assertEquals("test over", done.getString("stoppedReason"));
            assertFalse(done.getJsonArray("containers").getJsonObject(0).getValue("exitCode") == null, done.encode());
            assertEquals("", docker(tmp, "ps", "-aq", "--filter", "label=dev.berth.task=" + second));
        } finally {
            registry.close();
        }
    }

    @Test
    void afterAPartitionAReplacedTaskIsStoppedOnlyOnceTheControllerConfirms() throws Exception {
        int port = freePort();
        try (TestRegistry registry = registry(port, Map.of("deploy.lostAfter", "31s"))) {
            RegistryClient c = registry.client();
            String image = image(registry);
            String token = call(c, "CreateJoinToken", new JsonObject()).getString("joinToken");
            Agent agent = agent(registry, token);
            taskDefinition(c, image);
            String taskId = call(c, "RunTask", new JsonObject().put("taskDefinition", "app")).getJsonArray("tasks")
                    .getJsonObject(0).getString("taskArn");
            waitFor("the task RUNNING", Duration.ofSeconds(60), () -> task(c, taskId),
                    t -> "RUNNING".equals(t.getString("lastStatus")));
            String containerId = docker(tmp, "ps", "-q", "--no-trunc", "--filter", "label=dev.berth.task=" + taskId);

            // The agent goes away; its container keeps running; the controller gives the task up as lost.
            agent.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            agents.remove(agent);
            JsonObject lost = waitFor("the task lost", Duration.ofSeconds(60), () -> task(c, taskId),
                    t -> "STOPPED".equals(t.getString("lastStatus")));
            assertEquals("TaskLost", lost.getString("stopCode"));
            assertEquals("true", docker(tmp, "inspect", "--format", "{{.State.Running}}", containerId),
                    "nothing stops it while its agent is away");

            // The agent comes back: the task is not in its snapshot; it asks, the controller confirms, it stops it.
            agent(registry, null);
            waitFor("the replaced task's container gone", Duration.ofSeconds(60), () -> {
                try {
                    return docker(tmp, "ps", "-aq", "--filter", "label=dev.berth.task=" + taskId);
                } catch (Exception e) {
                    return e.toString();
                }
            }, String::isEmpty);
        }
    }
}
