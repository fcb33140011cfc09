package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.trigger.Push;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Edge cases found in review: debounced pushes and autoDeploy changes, malformed agent reports,
 * event ordering, rollouts that could never move, and pushes to another registry.
 */
class ControlPlaneEdgeCasesTest {
    @TempDir
    Path dir;

    private static final String REPO = "127.0.0.1:5000/team/web";

    private static JsonObject primary(JsonObject service) {
        for (Object o : service.getJsonArray("deployments")) {
            JsonObject d = (JsonObject) o;
            if ("PRIMARY".equals(d.getString("status"))) {
                return d;
            }
        }
        throw new AssertionError(service.encodePrettily());
    }

    /** Removing (or changing) autoDeploy drops a debounced push that was waiting. */
    @Test
    void aPendingPushIsDroppedWhenAutoDeployIsRemoved() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.registerTaskDefinition("web", REPO + ":v1", false, 64);
            c.call("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0)
                    .put("autoDeploy", new JsonObject().put("container", "app").put("policy", "digest").put("debounceSeconds", 10)));
            SimulatedCluster.await(c.controlPlane.push(Push.local("team/web", "v1", "sha256:" + "ab".repeat(32))));
            assertTrue(c.service("web").containsKey("pendingTrigger"));

            JsonObject updated = c.call("UpdateService", new JsonObject().put("service", "web").put("removeAutoDeploy", true))
                    .getJsonObject("service");
            assertNull(updated.getJsonObject("autoDeploy"));
            c.clock.advance(Duration.ofSeconds(11));
            SimulatedCluster.await(c.controlPlane.tick());
            JsonObject s = c.service("web");
            assertEquals(1, s.getJsonArray("deployments").size(),
                    "auto-deploy was removed, yet the push deployed: " + primary(s).encode());
        }
    }

    /** A null in networkBindings is bad input: a field error, not a NullPointerException and a reload. */
    @Test
    void aNullNetworkBindingIsAFieldErrorNotANullPointerException() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.addNode("a", 1024, 1024);
            c.registerTaskDefinition("web", REPO + ":v1", false, 64);
            String task = c.call("RunTask", new JsonObject().put("taskDefinition", "web")).getJsonArray("tasks")
                    .getJsonObject(0).getString("taskArn");
            JsonObject report = new JsonObject().put("task", task).put("status", "RUNNING").put("containers", new JsonArray()
                    .add(new JsonObject().put("containerName", "app").put("status", "RUNNING")
                            .put("networkBindings", new JsonArray().addNull())));
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.call("SubmitTaskStateChange", report));
            assertInstanceOf(FieldException.class, e.getCause(), "got " + e.getCause());
        }
    }

    /** ListServiceEvents is newest first by time (not by text), keeping a service's order within an instant. */
    @Test
    void listServiceEventsIsNewestFirst() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.registerTaskDefinition("web", REPO + ":v1", false, 64);
            c.call("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0));
            c.clock.advance(Duration.ofSeconds(10)); // a whole second: "...:10Z"
            c.call("UpdateService", new JsonObject().put("service", "web").put("desiredCount", 0).put("forceNewDeployment", true));
            c.clock.advance(Duration.ofMillis(500)); // "...:10.500Z"
            c.call("UpdateService", new JsonObject().put("service", "web").put("desiredCount", 0).put("forceNewDeployment", true));
            List<String> own = new ArrayList<>();
            c.service("web").getJsonArray("events").forEach(o -> own.add(((JsonObject) o).getString("id")));
            List<String> listed = new ArrayList<>();
            c.call("ListServiceEvents", new JsonObject().put("service", "web")).getJsonArray("events")
                    .forEach(o -> listed.add(((JsonObject) o).getString("id")));
            assertEquals(own, listed, "the service's own events are newest first; the listing reorders them");
        }
    }

    /**
     * desired 1, min 100 %, max 150 %: floor(1.5) = 1 = ceil(1), no room to start a task or to stop
     * one; such a service is refused instead of getting stuck in its first rollout.
     */
    @Test
    void aConfigurationThatLeavesNoRoomToReplaceATaskIsRefused() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.registerTaskDefinition("web-v1", REPO + ":v1", false, 64);
            JsonObject noRoom = new JsonObject().put("serviceName", "web").put("taskDefinition", "web-v1").put("desiredCount", 1)
                    .put("deploymentConfiguration", new JsonObject().put("minimumHealthyPercent", 100).put("maximumPercent", 150));
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.call("CreateService", noRoom));
            FieldException refused = (FieldException) e.getCause();
            assertEquals("deploymentConfiguration.maximumPercent", refused.field());
            assertTrue(refused.getMessage().contains("raise maximumPercent to at least 200"), refused.getMessage());
            // desiredCount 2 with the same percentages has room (floor(3) = 3 > 2); going down to 1 does not.
            c.call("CreateService", noRoom.copy().put("desiredCount", 2));
            ExecutionException down = assertThrows(ExecutionException.class, () -> c.call("UpdateService",
                    new JsonObject().put("service", "web").put("desiredCount", 1)));
            assertEquals("desiredCount", ((FieldException) down.getCause()).field());
            assertEquals(2, c.service("web").getInteger("desiredCount"));
        }
    }

    /** A push to Berth's own team/web does not concern registry.example.com/team/web; a hook from that registry does. */
    @Test
    void aPushToBerthDoesNotRedeployAnImageOfAnotherRegistry() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.registerTaskDefinition("web", "registry.example.com/team/web:main-1", false, 64);
            c.call("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0)
                    .put("autoDeploy", new JsonObject().put("container", "app").put("policy", "glob").put("pattern", "main-*")));
            int concerned = SimulatedCluster.await(c.controlPlane.push(Push.local("team/web", "main-2", "sha256:" + "cd".repeat(32))));
            assertEquals(0, concerned, "deployed " + primary(c.service("web")).getJsonObject("images").getString("app"));
            assertEquals(0, (int) SimulatedCluster.await(c.controlPlane.push(new Push("other.example.com", "team/web", "main-2",
                    "sha256:" + "cd".repeat(32), "hook"))), "a hook from yet another registry");
            assertEquals(1, (int) SimulatedCluster.await(c.controlPlane.push(new Push("registry.example.com", "team/web", "main-2",
                    "sha256:" + "cd".repeat(32), "hook"))));
            assertEquals("registry.example.com/team/web:main-2@sha256:" + "cd".repeat(32),
                    primary(c.service("web")).getJsonObject("images").getString("app"));
        }
    }
}
