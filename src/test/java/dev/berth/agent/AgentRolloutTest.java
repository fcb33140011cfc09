package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.BusyboxImages;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Push a new image, watch it roll out on real containers: Berth with its embedded agent on the real
 * Docker Engine. v1 of a busybox httpd service reaches 2 RUNNING, HEALTHY tasks serving v1's page
 * on their host ports; pushing v2 to the followed tag deploys on its own, every task ends up
 * serving v2, and at no point during the rollout do fewer than 2 tasks answer. A task container
 * killed with docker kill is reported with its exit code and replaced. A broken v3 (exits at start)
 * trips the circuit breaker and rolls back while v2 keeps serving, and the events say why.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class AgentRolloutTest {
    @TempDir
    Path tmp;
    private final List<String> images = new ArrayList<>();
    private String node;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void cleanUp() throws Exception {
        // Containers of the test's node, whatever happened.
        BusyboxImages.removeNodesAndImages(node == null ? List.of() : List.of(node), images);
    }

    static JsonObject call(RegistryClient c, String action, JsonObject body) {
        HttpResponse<byte[]> r = c.post("/api/" + action, body.encode().getBytes(StandardCharsets.UTF_8));
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(200, r.statusCode(), () -> action + " -> " + text);
        return new JsonObject(text);
    }

    static List<JsonObject> tasks(RegistryClient c, String service) {
        JsonArray ids = call(c, "ListTasks", new JsonObject().put("serviceName", service)).getJsonArray("taskArns");
        if (ids.isEmpty()) {
            return List.of();
        }
        List<JsonObject> out = new ArrayList<>();
        call(c, "DescribeTasks", new JsonObject().put("tasks", ids)).getJsonArray("tasks").forEach(t -> out.add((JsonObject) t));
        return out;
    }

    static <T> T waitFor(String what, Duration limit, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        T last = probe.get();
        while (!done.test(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last: " + last);
            }
            Thread.sleep(250);
            last = probe.get();
        }
        return last;
    }

    static Integer hostPort(JsonObject task) {
        JsonArray bindings = task.getJsonArray("containers").getJsonObject(0).getJsonArray("networkBindings", new JsonArray());
        return bindings.isEmpty() ? null : bindings.getJsonObject(0).getInteger("hostPort");
    }

    private String page(int port) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body().strip() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Healthy tasks of the service (RUNNING, HEALTHY, wanted) by task id, with the page each serves. */
    private Map<String, String> serving(RegistryClient c) {
        Map<String, String> out = new TreeMap<>();
        for (JsonObject t : tasks(c, "web")) {
            Integer port = hostPort(t);
            if ("RUNNING".equals(t.getString("lastStatus")) && "HEALTHY".equals(t.getString("healthStatus"))
                    && "RUNNING".equals(t.getString("desiredStatus")) && port != null) {
                out.put(t.getString("taskArn"), page(port));
            }
        }
        return out;
    }

    @Test
    void aPushRollsOutOnRealContainersWithoutDowntime() throws Exception {
        RequiredTools.docker();
        try (TestRegistry registry = TestRegistry.start(tmp.resolve("storage"), Map.of("agent.embedded", "true"))) {
            RegistryClient c = registry.client();
            assertNotNull(registry.server().embeddedAgent(), "the embedded agent started on the real Engine");
            node = registry.server().embeddedAgent().nodeId();
            waitFor("the embedded agent's node", Duration.ofSeconds(30),
                    () -> call(c, "ListContainerInstances", new JsonObject()).getJsonArray("containerInstanceArns"),
                    a -> a.contains(node));

            String run = UUID.randomUUID().toString().substring(0, 8);
            String image = registry.hostPort() + "/team/web-" + run + ":stable";
            images.add(image);
            BusyboxImages.buildWebImage(tmp, image, "v1");
            BusyboxImages.docker(tmp, "push", image);

            call(c, "RegisterTaskDefinition", new JsonObject().put("family", "web").put("containerDefinitions", new JsonArray()
                    .add(new JsonObject().put("name", "web").put("image", image).put("memory", 32)
                            .put("portMappings", new JsonArray().add(new JsonObject().put("containerPort", 8080)))
                            .put("healthCheck", new JsonObject().put("command", new JsonArray().add("CMD-SHELL")
                                    .add("wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1")).put("interval", 5)
                                    .put("timeout", 2).put("retries", 2))
                            .put("stopTimeout", 5))));
            call(c, "CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 2)
                    .put("deploymentConfiguration", new JsonObject().put("minimumHealthyPercent", 100).put("maximumPercent", 200)
                            .put("deploymentCircuitBreaker", new JsonObject().put("enable", true).put("rollback", true)))
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "digest")));

            Map<String, String> v1 = waitFor("2 healthy tasks serving v1", Duration.ofSeconds(90), () -> serving(c),
                    m -> m.size() == 2 && m.values().stream().allMatch("v1"::equals));
            assertEquals(2, v1.size());

            BusyboxImages.buildWebImage(tmp, image, "v2");
            BusyboxImages.docker(tmp, "push", image);

            // During the rollout: every task that ever ran is probed; at least 2 answer at any time.
            Set<Integer> ports = new TreeSet<>();
            List<String> trace = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (true) {
                List<JsonObject> all = tasks(c, "web");
                for (JsonObject t : all) {
                    if ("RUNNING".equals(t.getString("lastStatus")) && hostPort(t) != null) {
                        ports.add(hostPort(t));
                    }
                }
                List<String> pages = new ArrayList<>();
                for (int port : ports) {
                    String p = page(port);
                    if (p != null) {
                        pages.add(p);
                    }
                }
                trace.add(pages.toString());
                assertTrue(pages.size() >= 2, "fewer than 2 tasks serving: " + trace);
                Map<String, String> now = serving(c);
                JsonObject service = call(c, "DescribeServices", new JsonObject().put("services", new JsonArray().add("web")))
                        .getJsonArray("services").getJsonObject(0);
                JsonObject primary = service.getJsonArray("deployments").getJsonObject(0);
                if (service.getJsonArray("deployments").size() > 1 && "COMPLETED".equals(primary.getString("rolloutState"))
                        && now.size() == 2 && now.values().stream().allMatch("v2"::equals) && pages.stream().allMatch("v2"::equals)) {
                    assertTrue(primary.getString("trigger").startsWith("push of team/web-" + run + ":stable@"), primary.encode());
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "rollout did not finish: " + trace + " " + service.encodePrettily());
                Thread.sleep(200);
            }
            assertTrue(trace.stream().anyMatch(t -> t.contains("v1") && t.contains("v2")),
                    "old and new served side by side at some point: " + trace);

            // docker kill: the task is STOPPED with its exit code and replaced.
            String victim = serving(c).keySet().iterator().next();
            String container = BusyboxImages.docker(tmp, "ps", "-q", "--filter", "label=dev.berth.task=" + victim).stdout().strip();
            BusyboxImages.docker(tmp, "kill", container);
            JsonObject killed = waitFor("the killed task STOPPED", Duration.ofSeconds(30), () -> tasks(c, "web").stream()
                    .filter(t -> t.getString("taskArn").equals(victim)).findFirst().orElseThrow(),
                    t -> "STOPPED".equals(t.getString("lastStatus")));
            assertEquals("EssentialContainerExited", killed.getString("stopCode"));
            assertEquals(137, killed.getJsonArray("containers").getJsonObject(0).getInteger("exitCode"));
            Map<String, String> replaced = waitFor("a replacement serving v2", Duration.ofSeconds(60), () -> serving(c),
                    m -> m.size() == 2 && !m.containsKey(victim) && m.values().stream().allMatch("v2"::equals));
            assertEquals(2, replaced.size());

            // A broken v3: exits at start. The breaker fails it, Berth rolls back, v2 serves throughout.
            BusyboxImages.buildImage(tmp, image, "v3", "[\"sh\", \"-c\", \"exit 1\"]");
            BusyboxImages.docker(tmp, "push", image);
            Set<Integer> v2ports = new TreeSet<>();
            serving(c).keySet().forEach(id -> tasks(c, "web").stream().filter(t -> t.getString("taskArn").equals(id))
                    .forEach(t -> v2ports.add(hostPort(t))));
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (true) {
                long answering = v2ports.stream().map(this::page).filter("v2"::equals).count();
                assertEquals(2, answering, "v2 keeps serving while v3 fails");
                JsonObject service = call(c, "DescribeServices", new JsonObject().put("services", new JsonArray().add("web")))
                        .getJsonArray("services").getJsonObject(0);
                JsonObject primary = service.getJsonArray("deployments").getJsonObject(0);
                if (primary.getBoolean("rollback", false) && "COMPLETED".equals(primary.getString("rolloutState"))) {
                    JsonObject failed = service.getJsonArray("deployments").getJsonObject(1);
                    assertEquals("FAILED", failed.getString("rolloutState"), service.encodePrettily());
                    assertTrue(failed.getString("rolloutStateReason").startsWith("circuit breaker"), failed.encode());
                    String events = service.getJsonArray("events").encode();
                    assertTrue(events.contains("failed: circuit breaker"), events);
                    assertTrue(events.contains("Essential container web exited with code 1"), events);
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "no rollback: " + service.encodePrettily());
                Thread.sleep(300);
            }
            assertEquals(2, serving(c).values().stream().filter("v2"::equals).count());
        }
    }
}
