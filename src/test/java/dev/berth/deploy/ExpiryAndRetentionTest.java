package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.deploy.model.ControlPlaneException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Things that end with time: join tokens expire; STOPPED tasks and deleted services are forgotten after an hour. */
class ExpiryAndRetentionTest {
    @TempDir
    Path dir;

    @Test
    void anExpiredJoinTokenIsRefused() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            String token = c.call("CreateJoinToken", new JsonObject().put("expiresInSeconds", 120).put("uses", 2)).getString("joinToken");
            JsonObject register = new JsonObject().put("joinToken", token)
                    .put("totalResources", new JsonObject().put("cpu", 1).put("memory", 128));
            assertEquals("default", c.call("RegisterContainerInstance", register).getJsonObject("containerInstance")
                    .getString("cluster"));
            c.clock.advance(Duration.ofSeconds(121));
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.call("RegisterContainerInstance", register));
            ControlPlaneException refused = (ControlPlaneException) e.getCause();
            assertEquals("InvalidJoinTokenException", refused.code());
            assertEquals(401, refused.status());
        }
    }

    @Test
    void stoppedTasksAndDeletedServicesAreForgottenAfterAnHour() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            c.addNode("a", 1024, 1024);
            c.registerTaskDefinition("web", "team/web:1", false, 64);
            String task = c.call("RunTask", new JsonObject().put("taskDefinition", "web")).getJsonArray("tasks")
                    .getJsonObject(0).getString("taskArn");
            c.call("CreateService", new JsonObject().put("serviceName", "svc").put("taskDefinition", "web").put("desiredCount", 0));
            c.call("DeleteService", new JsonObject().put("service", "svc"));
            c.call("StopTask", new JsonObject().put("task", task));
            c.step();
            assertEquals("STOPPED", c.tasks(null).get(0).getString("lastStatus"));
            c.clock.advance(Duration.ofMinutes(59));
            c.step();
            assertEquals(1, c.tasks(null).size(), "kept within the hour");
            assertEquals(1, c.call("DescribeServices", new JsonObject().put("services", new io.vertx.core.json.JsonArray()
                    .add("svc"))).getJsonArray("services").size());
            c.clock.advance(Duration.ofMinutes(2));
            c.step();
            assertEquals(0, c.tasks(null).size(), "forgotten after the hour");
            assertEquals("MISSING", c.call("DescribeServices", new JsonObject().put("services", new io.vertx.core.json.JsonArray()
                    .add("svc"))).getJsonArray("failures").getJsonObject(0).getString("reason"));
        }
    }

    @Test
    void aRestartedControllerGivesEveryNodeTheFullTimeToComeBack() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            String node = c.addNode("a", 1024, 1024);
            c.registerTaskDefinition("web", "team/web:1", false, 64);
            String task = c.call("RunTask", new JsonObject().put("taskDefinition", "web")).getJsonArray("tasks")
                    .getJsonObject(0).getString("taskArn");
            // The controller is down for ten minutes: its last heartbeat from the node is that old.
            c.clock.advance(Duration.ofMinutes(10));
            c.restartController();
            SimulatedCluster.await(c.controlPlane.tick());
            JsonObject t = c.call("DescribeTasks", new JsonObject().put("tasks", new io.vertx.core.json.JsonArray().add(task)))
                    .getJsonArray("tasks").getJsonObject(0);
            assertEquals("PENDING", t.getString("lastStatus"), "not lost right after the restart");
            c.clock.advance(Duration.ofSeconds(61));
            SimulatedCluster.await(c.controlPlane.tick());
            t = c.call("DescribeTasks", new JsonObject().put("tasks", new io.vertx.core.json.JsonArray().add(task)))
                    .getJsonArray("tasks").getJsonObject(0);
            assertEquals("TaskLost", t.getString("stopCode"), "lost once the node stayed away for lostAfter");
            JsonObject n = c.call("DescribeContainerInstances", new JsonObject().put("containerInstances",
                    new io.vertx.core.json.JsonArray().add(node))).getJsonArray("containerInstances").getJsonObject(0);
            assertEquals(false, n.getBoolean("agentConnected"));
            assertEquals("LOST", n.getString("agentStatus"));
        }
    }
}
