package dev.berth.agent;

import static dev.berth.agent.AgentRolloutTest.call;
import static dev.berth.agent.AgentRolloutTest.tasks;
import static dev.berth.agent.AgentRolloutTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.agent.docker.DockerEngine;
import dev.berth.deploy.model.Attribute;
import dev.berth.testing.AgentProcess;
import dev.berth.testing.BusyboxImages;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents (distinct nodes, the same Docker daemon) run a service; the agent process of one is
 * killed with SIGKILL: its node is disconnected, then lost, and its task is replaced on the other;
 * when the agent comes back it stops the replaced task and nothing else.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class AgentFailoverTest {
    @TempDir
    Path tmp;
    private final List<String> images = new ArrayList<>();
    private final java.util.Set<String> nodes = new java.util.HashSet<>();

    @AfterEach
    void cleanUp() throws Exception {
        BusyboxImages.removeNodesAndImages(nodes, images);
    }

    private String containers(String label) throws Exception {
        return BusyboxImages.docker(tmp, "ps", "-q", "--no-trunc", "--filter", "label=" + label).stdout().strip();
    }

    @Test
    void aKilledAgentsTasksAreReplacedAndOnItsReturnOnlyTheReplacedOnesStop() throws Exception {
        RequiredTools.docker();
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        try (TestRegistry registry = TestRegistry.start(tmp.resolve("storage"), Map.of("deploy.lostAfter", "31s"))) {
            RegistryClient c = registry.client();
            String image = registry.hostPort() + "/agent/failover-" + UUID.randomUUID().toString().substring(0, 8) + ":v1";
            images.add(image);
            BusyboxImages.buildWebImage(tmp, image, "v1");
            BusyboxImages.docker(tmp, "push", image);
            String token = call(c, "CreateJoinToken", new JsonObject().put("uses", 2)).getString("joinToken");

            Agent a = Agent.start(vertx, new Agent.Options(registry.baseUrl(), token, tmp.resolve("agent-a"),
                    DockerEngine.DEFAULT_SOCKET, "node-a", List.of(new Attribute("name", "a")), 2048, 2048))
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            Path stateB = tmp.resolve("agent-b");
            AgentProcess b = AgentProcess.start(registry.baseUrl(), stateB, tmp.resolve("agent-b.log"),
                    "--join-token", token, "--hostname", "node-b", "--attribute", "name=b", "--cpu", "2048", "--memory", "2048");
            JsonArray nodes = waitFor("two nodes", Duration.ofSeconds(60),
                    () -> call(c, "ListContainerInstances", new JsonObject()).getJsonArray("containerInstanceArns"),
                    n -> n.size() == 2);
            String nodeA = a.nodeId();
            this.nodes.addAll(nodes.stream().map(Object::toString).toList());
            String nodeB = nodes.stream().map(Object::toString).filter(n -> !n.equals(nodeA)).findFirst().orElseThrow();

            call(c, "RegisterTaskDefinition", new JsonObject().put("family", "web").put("containerDefinitions", new JsonArray()
                    .add(new JsonObject().put("name", "web").put("image", image).put("memory", 32)
                            .put("portMappings", new JsonArray().add(new JsonObject().put("containerPort", 8080)))
                            .put("stopTimeout", 3))));
            call(c, "CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 2)
                    .put("deploymentConfiguration", new JsonObject().put("minimumHealthyPercent", 50).put("maximumPercent", 200)));
            List<JsonObject> running = waitFor("one running task per node", Duration.ofSeconds(90), () -> tasks(c, "web"),
                    ts -> ts.stream().filter(t -> "RUNNING".equals(t.getString("lastStatus")))
                            .map(t -> t.getString("containerInstanceArn")).collect(Collectors.toSet()).equals(Set.of(nodeA, nodeB)));
            String taskOnB = running.stream().filter(t -> nodeB.equals(t.getString("containerInstanceArn"))
                    && "RUNNING".equals(t.getString("lastStatus"))).findFirst().orElseThrow().getString("taskArn");
            String containerOnB = containers("dev.berth.task=" + taskOnB);
            String containersOnA = containers("dev.berth.node=" + nodeA);
            assertFalse(containerOnB.isEmpty());

            // SIGKILL: the container stays; the node is disconnected at once (its session ended), then lost.
            b.kill9();
            waitFor("node B disconnected", Duration.ofSeconds(30), () -> call(c, "DescribeContainerInstances",
                    new JsonObject().put("containerInstances", new JsonArray().add(nodeB))).getJsonArray("containerInstances")
                    .getJsonObject(0), n -> !n.getBoolean("agentConnected") && "DISCONNECTED".equals(n.getString("agentStatus")));
            JsonObject lost = waitFor("B's task lost", Duration.ofSeconds(90), () -> tasks(c, "web").stream()
                    .filter(t -> t.getString("taskArn").equals(taskOnB)).findFirst().orElseThrow(),
                    t -> "STOPPED".equals(t.getString("lastStatus")));
            assertEquals("TaskLost", lost.getString("stopCode"));
            assertEquals("LOST", call(c, "DescribeContainerInstances", new JsonObject().put("containerInstances",
                    new JsonArray().add(nodeB))).getJsonArray("containerInstances").getJsonObject(0).getString("agentStatus"));
            waitFor("two running tasks on A", Duration.ofSeconds(90), () -> tasks(c, "web"),
                    ts -> ts.stream().filter(t -> "RUNNING".equals(t.getString("lastStatus"))
                            && nodeA.equals(t.getString("containerInstanceArn"))).count() == 2);
            assertEquals(containerOnB, containers("dev.berth.task=" + taskOnB), "nobody stopped it while B was away");

            // B comes back: it stops the replaced task's container, and only that.
            try (AgentProcess again = AgentProcess.start(registry.baseUrl(), stateB, tmp.resolve("agent-b2.log"))) {
                waitFor("the replaced task's container gone", Duration.ofSeconds(60), () -> {
                    try {
                        return containers("dev.berth.task=" + taskOnB);
                    } catch (Exception e) {
                        return e.toString();
                    }
                }, String::isEmpty);
                assertTrue(again.alive(), again.output());
                waitFor("node B connected again", Duration.ofSeconds(30), () -> call(c, "DescribeContainerInstances",
                        new JsonObject().put("containerInstances", new JsonArray().add(nodeB))).getJsonArray("containerInstances")
                        .getJsonObject(0), n -> n.getBoolean("agentConnected"));
                String stillOnA = containers("dev.berth.node=" + nodeA);
                for (String id : containersOnA.split("\n")) {
                    assertTrue(stillOnA.contains(id), "A's original container " + id + " still runs");
                }
                assertNotEquals("", stillOnA);
            }
            a.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
