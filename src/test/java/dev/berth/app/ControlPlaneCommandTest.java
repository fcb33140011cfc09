package dev.berth.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control-plane CLI against a real server: cluster, taskdef, service (deploy --wait exit codes
 * included), task, node and events, in table and JSON form. A simulated node in a background thread
 * runs what the controller places on it.
 */
class ControlPlaneCommandTest {
    @TempDir
    Path dir;

    /** A node without containers: starts what it gets (images tagged "broken" fail), stops what it is told. */
    private static final class SimulatedNode implements AutoCloseable {
        private final RegistryClient http;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;
        final String id;

        SimulatedNode(RegistryClient http) {
            this.http = http;
            this.id = call("RegisterContainerInstance", new JsonObject().put("hostname", "sim").put("totalResources",
                    new JsonObject().put("cpu", 4096).put("memory", 4096))).getJsonObject("containerInstance")
                    .getString("containerInstanceArn");
            this.thread = new Thread(this::loop, "simulated-node");
            thread.setDaemon(true);
            thread.start();
        }

        private JsonObject call(String action, JsonObject body) {
            HttpResponse<byte[]> r = http.post("/api/" + action, body.encode().getBytes(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                throw new IllegalStateException(action + " -> " + r.statusCode() + " " + new String(r.body()));
            }
            return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
        }

        private void loop() {
            while (running.get()) {
                try {
                    JsonArray ids = call("ListTasks", new JsonObject().put("containerInstance", id)).getJsonArray("taskArns");
                    if (!ids.isEmpty()) {
                        for (Object o : call("DescribeTasks", new JsonObject().put("tasks", ids)).getJsonArray("tasks")) {
                            act((JsonObject) o);
                        }
                    }
                    call("SubmitHeartbeat", new JsonObject().put("containerInstance", id));
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (running.get()) {
                        System.err.println("simulated node: " + e);
                    }
                }
            }
        }

        private void act(JsonObject t) {
            String last = t.getString("lastStatus");
            JsonObject report = new JsonObject().put("task", t.getString("taskArn"));
            if ("STOPPED".equals(last)) {
                return;
            }
            if ("STOPPED".equals(t.getString("desiredStatus"))) {
                call("SubmitTaskStateChange", report.put("status", "STOPPED"));
            } else if ("PENDING".equals(last)) {
                boolean broken = t.getJsonArray("containers").getJsonObject(0).getString("image").contains(":broken");
                call("SubmitTaskStateChange", broken ? report.put("status", "STOPPED").put("reason", "CannotPullContainerError")
                        : report.put("status", "RUNNING").put("healthStatus", "HEALTHY"));
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.interrupt();
            thread.join(5000);
        }
    }

    private static Cli.Run berth(TestRegistry registry, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--server");
        all.add(registry.baseUrl());
        return Cli.berth(all.toArray(String[]::new));
    }

    private Path taskDefinition(String family, String image) throws Exception {
        Path f = dir.resolve(family + ".json");
        Files.writeString(f, new JsonObject().put("family", family).put("containerDefinitions", new JsonArray()
                .add(new JsonObject().put("name", "web").put("image", image).put("memory", 64))).encode());
        return f;
    }

    @Test
    void clustersAndTaskDefinitions() throws Exception {
        try (TestRegistry registry = TestRegistry.start(dir.resolve("storage"))) {
            Cli.Run created = berth(registry, "cluster", "create", "prod");
            assertEquals(0, created.exit(), created.toString());
            assertEquals("ACTIVE", Cli.table(created.out()).get(0).get("STATUS"));
            Cli.Run ls = berth(registry, "cluster", "ls", "-o", "json");
            assertEquals(List.of("default", "prod"), new JsonObject(ls.out()).getJsonArray("clusters").stream()
                    .map(c -> ((JsonObject) c).getString("clusterName")).toList(), ls.toString());
            assertEquals("prod", new JsonObject(berth(registry, "cluster", "describe", "prod", "-o", "json").out())
                    .getString("clusterName"));
            Cli.Run rmDefault = berth(registry, "cluster", "rm", "default");
            assertEquals(1, rmDefault.exit(), rmDefault.toString());
            assertTrue(rmDefault.err().contains("the default cluster always exists (field: cluster)"), rmDefault.toString());
            Cli.Run rm = berth(registry, "cluster", "rm", "prod");
            assertEquals("cluster prod deleted", rm.out().strip(), rm.toString());

            Cli.Run registered = berth(registry, "taskdef", "register", "-f", "config/examples/taskdef-web.json");
            assertEquals(0, registered.exit(), registered.toString());
            Map<String, String> row = Cli.table(registered.out()).get(0);
            assertEquals("web:1", row.get("TASK DEFINITION"));
            assertEquals("*->8080/tcp", row.get("PORTS"));
            assertEquals("64", row.get("MEMORY"));
            berth(registry, "taskdef", "register", "-f", "config/examples/taskdef-web.json");
            assertEquals(List.of("web:1", "web:2"), Cli.table(berth(registry, "taskdef", "ls").out()).stream()
                    .map(r -> r.get("TASK DEFINITION")).toList());
            assertEquals(2, new JsonObject(berth(registry, "taskdef", "describe", "web", "-o", "json").out()).getInteger("revision"));
            assertEquals("INACTIVE", Cli.table(berth(registry, "taskdef", "deregister", "web:2").out()).get(0).get("STATUS"));
            Cli.Run missing = berth(registry, "taskdef", "register", "-f", dir.resolve("nope.json").toString());
            assertEquals(1, missing.exit());
            assertTrue(missing.err().contains("cannot read"), missing.toString());
            Path bad = Files.writeString(dir.resolve("bad.json"), "{\"family\":\"x\",\"containerDefinitions\":[{\"name\":\"a\"}]}");
            Cli.Run refused = berth(registry, "taskdef", "register", "-f", bad.toString());
            assertEquals(1, refused.exit());
            assertTrue(refused.err().contains("(field: containerDefinitions[0].image)"), refused.toString());
        }
    }

    @Test
    void servicesDeployWithWaitTasksNodesAndEvents() throws Exception {
        try (TestRegistry registry = TestRegistry.start(dir.resolve("storage"));
             SimulatedNode node = new SimulatedNode(registry.client())) {
            for (String tag : List.of("v1", "v2", "broken")) {
                assertEquals(0, berth(registry, "taskdef", "register", "-f",
                        taskDefinition("web-" + tag, "example.com/team/web:" + tag).toString()).exit());
            }
            Path request = Files.writeString(dir.resolve("service.json"), new JsonObject().put("deploymentConfiguration",
                    new JsonObject().put("deploymentCircuitBreaker", new JsonObject().put("enable", true).put("rollback", true)))
                    .encode());
            Cli.Run created = berth(registry, "service", "create", "web", "-f", request.toString(), "--taskdef", "web-v1",
                    "--count", "2");
            assertEquals(0, created.exit(), created.toString());
            assertEquals("web-v1:1", Cli.table(created.out()).get(0).get("TASK DEFINITION"));

            Cli.Run deployed = berth(registry, "service", "deploy", "web", "--taskdef", "web-v2", "--wait", "--interval", "100",
                    "--timeout", "60");
            assertEquals(0, deployed.exit(), deployed.toString());
            assertTrue(deployed.out().lines().reduce((a, b) -> b).orElse("").contains(" COMPLETED: 2 running"), deployed.toString());

            Cli.Run failed = berth(registry, "service", "deploy", "web", "--taskdef", "web-broken", "--wait", "--interval", "100",
                    "--timeout", "60");
            assertEquals(ServiceCommand.FAILED, failed.exit(), failed.toString());
            assertTrue(failed.out().contains("FAILED"), failed.toString());

            Cli.Run described = berth(registry, "service", "describe", "web", "-o", "json");
            JsonObject service = new JsonObject(described.out());
            assertEquals("web-v2:1", service.getString("taskDefinition"), "rolled back to v2");
            List<Map<String, String>> ls = Cli.table(berth(registry, "service", "ls").out());
            assertEquals("web", ls.get(0).get("SERVICE"));

            Cli.Run events = berth(registry, "events", "--service", "web", "--limit", "200");
            assertTrue(events.out().contains("deployment completed"), events.toString());
            assertTrue(events.out().contains("circuit breaker"), events.toString());

            List<Map<String, String>> tasks = Cli.table(berth(registry, "task", "ls", "--service", "web", "--status", "RUNNING").out());
            assertEquals(2, tasks.size(), tasks.toString());
            assertEquals(node.id, tasks.get(0).get("NODE"));
            Cli.Run run = berth(registry, "task", "run", "web-v1", "--count", "2", "-o", "json");
            JsonArray oneOff = new JsonObject(run.out()).getJsonArray("tasks");
            assertEquals(2, oneOff.size(), run.toString());
            String id = oneOff.getJsonObject(0).getString("taskArn");
            Cli.Run stopped = berth(registry, "task", "stop", id, "--reason", "done");
            assertEquals(0, stopped.exit(), stopped.toString());
            assertEquals("done", Cli.table(stopped.out()).get(0).get("REASON"));
            assertEquals(1, berth(registry, "task", "describe", "nope").exit());

            Map<String, String> n = Cli.table(berth(registry, "node", "ls").out()).get(0);
            assertEquals("CONNECTED", n.get("AGENT"));
            assertEquals("DRAINING", Cli.table(berth(registry, "node", "drain", node.id).out()).get(0).get("STATUS"));
            assertEquals("ACTIVE", Cli.table(berth(registry, "node", "activate", node.id).out()).get(0).get("STATUS"));

            Cli.Run rm = berth(registry, "service", "rm", "web");
            assertEquals(1, rm.exit(), "still has a desired count");
            assertEquals(0, berth(registry, "service", "rm", "web", "--force").exit());
            assertEquals(2, Cli.berth("service").exit(), "no subcommand: usage");
            assertEquals(2, berth(registry, "service", "ls", "-o", "yaml").exit());
            assertEquals(1, berth(registry, "service", "ls", "--cluster", "nope").exit());
        }
    }
}
