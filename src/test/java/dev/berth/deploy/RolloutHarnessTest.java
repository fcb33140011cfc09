package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.deploy.SimulatedCluster.Behaviour;
import dev.berth.deploy.scheduler.RolloutEngine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Rollouts on simulated nodes: the service's healthy count never drops below its floor and the
 * number of live tasks never exceeds its ceiling, at any step; failing versions trip the circuit
 * breaker and roll back; lost nodes, quick successive deployments and a controller restart in the
 * middle all end with every task on the intended version.
 */
class RolloutHarnessTest {
    private static final String REPO = "127.0.0.1:5000/team/web";

    @TempDir
    Path dir;

    private static Behaviour byTag(String image) {
        if (image.contains(":broken@")) {
            return Behaviour.FAILS_TO_START;
        }
        if (image.contains(":crashy@")) {
            return Behaviour.CRASHES;
        }
        if (image.contains(":sick@")) {
            return Behaviour.UNHEALTHY;
        }
        return Behaviour.HEALTHY;
    }

    private static String pinned(String tag) {
        return REPO + ":" + tag + "@" + SimulatedCluster.digestOf(tag);
    }

    /**
     * Alive: PENDING or RUNNING (what maximumPercent bounds, as in ECS: tasks stopping are on their
     * way out). Healthy: desired RUNNING, RUNNING and HEALTHY.
     */
    private record Counts(int alive, int healthy, int stopping, Set<String> aliveImages, Set<String> healthyImages) {
    }

    private static Counts counts(SimulatedCluster c, String service) throws Exception {
        int alive = 0;
        int healthy = 0;
        int stopping = 0;
        Set<String> aliveImages = new java.util.TreeSet<>();
        Set<String> healthyImages = new java.util.TreeSet<>();
        for (JsonObject t : c.tasks(service)) {
            if ("STOPPING".equals(t.getString("lastStatus"))) {
                stopping++;
            }
            if ("STOPPED".equals(t.getString("lastStatus")) || "STOPPING".equals(t.getString("lastStatus"))) {
                continue;
            }
            alive++;
            String image = t.getJsonArray("containers").getJsonObject(0).getString("image");
            aliveImages.add(image);
            if ("RUNNING".equals(t.getString("desiredStatus")) && "RUNNING".equals(t.getString("lastStatus"))
                    && "HEALTHY".equals(t.getString("healthStatus"))) {
                healthy++;
                healthyImages.add(image);
            }
        }
        return new Counts(alive, healthy, stopping, aliveImages, healthyImages);
    }

    private static JsonObject primary(JsonObject service) {
        for (Object o : service.getJsonArray("deployments")) {
            JsonObject d = (JsonObject) o;
            if ("PRIMARY".equals(d.getString("status"))) {
                return d;
            }
        }
        throw new AssertionError("no PRIMARY deployment: " + service.encodePrettily());
    }

    private static SimulatedCluster.Check completedOn(SimulatedCluster c, String service, String tag, int desired) {
        return () -> {
            JsonObject p = primary(c.service(service));
            Counts n = counts(c, service);
            return "COMPLETED".equals(p.getString("rolloutState")) && n.alive() == desired && n.healthy() == desired
                    && n.stopping() == 0
                    && n.aliveImages().equals(Set.of(pinned(tag)));
        };
    }

    private SimulatedCluster cluster(int nodes) throws Exception {
        SimulatedCluster c = new SimulatedCluster(dir, RolloutHarnessTest::byTag);
        for (int i = 0; i < nodes; i++) {
            c.addNode("node-" + (char) ('a' + i), 4096, 4096);
        }
        for (String tag : List.of("v1", "v2", "v3", "broken", "crashy", "sick")) {
            c.registerTaskDefinition("web-" + tag, REPO + ":" + tag, true, 128);
        }
        return c;
    }

    private static JsonObject createService(int desired, int min, int max, boolean breaker) {
        return new JsonObject().put("serviceName", "web").put("taskDefinition", "web-v1").put("desiredCount", desired)
                .put("deploymentConfiguration", new JsonObject().put("minimumHealthyPercent", min).put("maximumPercent", max)
                        .put("deploymentCircuitBreaker", new JsonObject().put("enable", breaker).put("rollback", breaker)));
    }

    private static JsonObject update(String taskDefinition) {
        return new JsonObject().put("service", "web").put("taskDefinition", taskDefinition);
    }

    @ParameterizedTest(name = "desired {0}, min {1}%, max {2}%")
    @CsvSource({"4, 100, 200", "4, 50, 100", "4, 50, 150", "4, 0, 100", "5, 75, 125", "1, 100, 200", "3, 34, 134"})
    void aHealthyRolloutStaysWithinTheFloorAndTheCeilingAtEveryStep(int desired, int min, int max) throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(desired, min, max, false));
            c.stepUntil(30, completedOn(c, "web", "v1", desired), () -> true);
            int floor = (desired * min + 99) / 100;
            int ceiling = desired * max / 100;

            JsonObject updated = c.call("UpdateService", update("web-v2")).getJsonObject("service");
            assertEquals("IN_PROGRESS", primary(updated).getString("rolloutState"));
            assertEquals(pinned("v2"), primary(updated).getJsonObject("images").getString("app"), "the image is pinned");
            List<String> trace = new ArrayList<>();
            int steps = c.stepUntil(60, completedOn(c, "web", "v2", desired), () -> {
                Counts n = counts(c, "web");
                trace.add(n.alive() + "/" + n.healthy());
                assertTrue(n.alive() <= ceiling, "alive " + n.alive() + " > ceiling " + ceiling + "; trace " + trace);
                assertTrue(n.healthy() >= floor, "healthy " + n.healthy() + " < floor " + floor + "; trace " + trace);
                return true;
            });
            assertTrue(steps > 1, "a rollout takes more than one step");
            JsonObject service = c.service("web");
            assertEquals("web-v2:1", service.getString("taskDefinition"));
            assertEquals(desired, service.getInteger("runningCount"));
            JsonArray deployments = service.getJsonArray("deployments");
            assertEquals("INACTIVE", deployments.getJsonObject(1).getString("status"), deployments::encodePrettily);
            assertTrue(service.getJsonArray("events").getJsonObject(0).getString("message").contains("steady state"),
                    service.getJsonArray("events")::encodePrettily);
        }
    }

    @Test
    void anImageThatFailsToStartTripsTheCircuitBreakerAndRollsBack() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(3, 100, 200, true));
            c.stepUntil(30, completedOn(c, "web", "v1", 3), () -> true);
            String v1Deployment = primary(c.service("web")).getString("id");
            JsonObject failing = primary(c.call("UpdateService", update("web-broken")).getJsonObject("service"));

            c.stepUntil(60, () -> !primary(c.service("web")).getString("id").equals(failing.getString("id"))
                    && completedOn(c, "web", "v1", 3).holds(), () -> {
                assertTrue(counts(c, "web").healthy() >= 3, "the old tasks keep serving during the failed rollout");
                return true;
            });
            JsonObject service = c.service("web");
            JsonObject rollback = primary(service);
            assertTrue(rollback.getBoolean("rollback"));
            assertEquals("web-v1:1", rollback.getString("taskDefinition"));
            assertEquals(pinned("v1"), rollback.getJsonObject("images").getString("app"));
            assertTrue(rollback.getString("trigger").contains(v1Deployment), rollback.encode());
            JsonObject failed = deployment(service, failing.getString("id"));
            assertEquals("FAILED", failed.getString("rolloutState"));
            assertTrue(failed.getString("rolloutStateReason").startsWith("circuit breaker: 3 task(s) failed (threshold 3)"),
                    failed.encode());
            assertEquals(3, failed.getInteger("failedTasks"));
            assertTrue(service.getJsonArray("rolledBackDigests").contains(SimulatedCluster.digestOf("broken")));
            // The healthy v1 tasks were kept, not replaced: no v1 task was ever stopped.
            long stoppedV1 = c.tasks("web").stream().filter(t -> "STOPPED".equals(t.getString("lastStatus")))
                    .filter(t -> t.getJsonArray("containers").getJsonObject(0).getString("image").equals(pinned("v1"))).count();
            assertEquals(0, stoppedV1);
        }
    }

    @Test
    void tasksThatStartThenCrashAreCountedAndRollBack() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(4, 50, 200, true));
            c.stepUntil(30, completedOn(c, "web", "v1", 4), () -> true);
            String crashy = primary(c.call("UpdateService", update("web-crashy")).getJsonObject("service")).getString("id");
            c.stepUntil(80, () -> "FAILED".equals(deployment(c.service("web"), crashy).getString("rolloutState"))
                    && completedOn(c, "web", "v1", 4).holds(), () -> {
                if (System.getenv("HARNESS_DEBUG") != null) {
                    System.out.println(counts(c, "web") + " " + c.service("web").getJsonArray("deployments").encode());
                }
                assertTrue(counts(c, "web").alive() <= 8);
                return true;
            });
            JsonObject failed = deployment(c.service("web"), crashy);
            assertEquals(3, failed.getInteger("failedTasks"), "threshold for 4: max(3, 2)");
            List<JsonObject> crashed = c.tasks("web").stream()
                    .filter(t -> "EssentialContainerExited".equals(t.getString("stopCode"))).toList();
            assertTrue(crashed.size() >= 3, "the crashes were seen as crashes: " + crashed.size());
            assertEquals(1, crashed.get(0).getJsonArray("containers").getJsonObject(0).getInteger("exitCode"));
        }
    }

    @Test
    void unhealthyTasksAreReplacedOnlyAfterTheGracePeriodAndCount() throws Exception {
        try (SimulatedCluster c = cluster(2)) {
            c.call("CreateService", createService(2, 100, 200, true).put("healthCheckGracePeriodSeconds", 5));
            c.stepUntil(30, completedOn(c, "web", "v1", 2), () -> true);
            c.call("UpdateService", update("web-sick"));
            // Step 1: sick tasks are started; 2: they run; from 3 they report UNHEALTHY; grace is 5 s from start.
            for (int i = 0; i < 4; i++) {
                c.step();
            }
            assertTrue(c.tasks("web").stream().noneMatch(t -> "Task failed container health checks".equals(
                    t.getString("stoppedReason"))), "nothing replaced within the grace period");
            c.stepUntil(60, () -> primary(c.service("web")).getBoolean("rollback", false)
                    && completedOn(c, "web", "v1", 2).holds(), () -> true);
            assertTrue(c.tasks("web").stream().anyMatch(t -> "Task failed container health checks".equals(
                    t.getString("stoppedReason"))));
        }
    }

    @Test
    void aNodeLostMidRolloutHasItsTasksReplacedElsewhere() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(3, 50, 200, false).put("placementStrategy", new JsonArray()
                    .add(new JsonObject().put("type", "spread").put("field", "instanceId"))));
            c.stepUntil(30, completedOn(c, "web", "v1", 3), () -> true);
            c.call("UpdateService", update("web-v2"));
            c.step();
            // Lose a node that runs a task the service still wants.
            String lost = c.tasks("web").stream().filter(t -> "RUNNING".equals(t.getString("desiredStatus"))
                    && t.getString("containerInstanceArn") != null).findFirst().orElseThrow().getString("containerInstanceArn");
            c.silent.add(lost);
            c.stepUntil(200, completedOn(c, "web", "v2", 3), () -> {
                assertTrue(counts(c, "web").alive() <= 6);
                return true;
            });
            JsonObject node = c.call("DescribeContainerInstances", new JsonObject().put("containerInstances",
                    new JsonArray().add(lost))).getJsonArray("containerInstances").getJsonObject(0);
            assertFalse(node.getBoolean("agentConnected"));
            for (JsonObject t : c.tasks("web")) {
                if (!"STOPPED".equals(t.getString("lastStatus"))) {
                    assertNotEquals(lost, t.getString("containerInstanceArn"), "nothing lives on the lost node");
                }
            }
            List<JsonObject> all = c.tasks("web");
            assertTrue(all.stream().anyMatch(t -> "TaskLost".equals(t.getString("stopCode"))),
                    () -> "the lost node had tasks, and they were marked lost: " + all.stream()
                            .map(t -> t.getString("containerInstanceArn") + " " + t.getString("lastStatus") + " "
                                    + t.getString("stopCode") + " " + t.getString("stoppedReason")).toList());
        }
    }

    @ParameterizedTest(name = "min {0}%, max {1}%")
    @CsvSource({"100, 200", "50, 100", "67, 134"})
    void drainingANodeMovesItsTasksWithinTheFloorAndTheCeiling(int min, int max) throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(3, min, max, false).put("placementStrategy", new JsonArray()
                    .add(new JsonObject().put("type", "spread").put("field", "instanceId"))));
            c.stepUntil(30, completedOn(c, "web", "v1", 3), () -> true);
            String drained = c.nodes.get("node-a");
            assertTrue(c.tasks("web").stream().anyMatch(t -> drained.equals(t.getString("containerInstanceArn"))),
                    "spread put a task on every node");
            c.call("UpdateContainerInstancesState", new JsonObject().put("containerInstances", new JsonArray().add(drained))
                    .put("status", "DRAINING"));
            int floor = (3 * min + 99) / 100;
            int ceiling = 3 * max / 100;
            c.stepUntil(40, () -> counts(c, "web").healthy() == 3 && c.tasks("web").stream()
                    .noneMatch(t -> drained.equals(t.getString("containerInstanceArn"))
                            && !"STOPPED".equals(t.getString("lastStatus"))), () -> {
                Counts n = counts(c, "web");
                assertTrue(n.alive() <= ceiling, "alive " + n.alive() + " > " + ceiling);
                assertTrue(n.healthy() >= floor, "healthy " + n.healthy() + " < " + floor);
                return true;
            });
            assertTrue(c.tasks("web").stream().anyMatch(t -> RolloutEngine.DRAINED.equals(t.getString("stoppedReason"))));
        }
    }

    @Test
    void aSecondDeploymentSupersedesOneInProgress() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(3, 100, 200, false));
            c.stepUntil(30, completedOn(c, "web", "v1", 3), () -> true);
            String v2 = primary(c.call("UpdateService", update("web-v2")).getJsonObject("service")).getString("id");
            c.step();
            c.call("UpdateService", update("web-v3"));
            c.stepUntil(60, completedOn(c, "web", "v3", 3), () -> {
                assertTrue(counts(c, "web").alive() <= 6);
                assertTrue(counts(c, "web").healthy() >= 3);
                return true;
            });
            JsonObject superseded = deployment(c.service("web"), v2);
            assertEquals("INACTIVE", superseded.getString("status"));
            assertTrue(superseded.getString("rolloutStateReason").startsWith("superseded by"), superseded.encode());
        }
    }

    @Test
    void twoPushesInQuickSuccessionEndOnTheSecond() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(3, 100, 200, false).put("autoDeploy", new JsonObject()
                    .put("container", "app").put("policy", "glob").put("pattern", "v*")));
            c.stepUntil(30, completedOn(c, "web", "v1", 3), () -> true);
            assertEquals(1, SimulatedCluster.await(c.controlPlane.push(
                    dev.berth.deploy.trigger.Push.local("team/web", "v2", SimulatedCluster.digestOf("v2")))));
            String v2 = primary(c.service("web")).getString("id");
            assertEquals(1, SimulatedCluster.await(c.controlPlane.push(
                    dev.berth.deploy.trigger.Push.local("team/web", "v3", SimulatedCluster.digestOf("v3")))));
            assertEquals(0, SimulatedCluster.await(c.controlPlane.push(
                    dev.berth.deploy.trigger.Push.local("team/web", "v3", SimulatedCluster.digestOf("v3")))),
                    "the same push again deploys nothing");
            c.stepUntil(60, completedOn(c, "web", "v3", 3), () -> {
                assertTrue(counts(c, "web").alive() <= 6);
                assertTrue(counts(c, "web").healthy() >= 3);
                return true;
            });
            JsonObject service = c.service("web");
            assertEquals(3, service.getJsonArray("deployments").size(), "v1, v2 and v3: one deployment per push");
            assertTrue(deployment(service, v2).getString("rolloutStateReason").startsWith("superseded by"));
            assertEquals("web-v1:1", service.getString("taskDefinition"), "a push changes the image, not the task definition");
        }
    }

    @Test
    void aControllerRestartMidRolloutContinuesTheSameDeployment() throws Exception {
        try (SimulatedCluster c = cluster(3)) {
            c.call("CreateService", createService(4, 50, 150, false));
            c.stepUntil(30, completedOn(c, "web", "v1", 4), () -> true);
            String v2 = primary(c.call("UpdateService", update("web-v2")).getJsonObject("service")).getString("id");
            c.step();
            assertEquals("IN_PROGRESS", primary(c.service("web")).getString("rolloutState"), "still in the middle of the rollout");
            c.restartController();
            assertEquals(v2, primary(c.service("web")).getString("id"));
            assertEquals("IN_PROGRESS", primary(c.service("web")).getString("rolloutState"));
            c.stepUntil(60, completedOn(c, "web", "v2", 4), () -> {
                assertTrue(counts(c, "web").alive() <= 6);
                assertTrue(counts(c, "web").healthy() >= 2);
                return true;
            });
            assertEquals(v2, primary(c.service("web")).getString("id"), "no new deployment was made by the restart");
        }
    }

    @Test
    void scalingPlacementTroubleAndDeletion() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, RolloutHarnessTest::byTag)) {
            c.addNode("small", 1024, 300);
            c.registerTaskDefinition("web-v1", REPO + ":v1", false, 128);
            c.call("CreateService", createService(4, 100, 200, false));
            c.step();
            c.step();
            JsonObject service = c.service("web");
            assertEquals(4, service.getInteger("pendingCount") + service.getInteger("runningCount"));
            assertEquals(2, c.tasks("web").stream().filter(t -> t.getString("containerInstanceArn") == null).count(),
                    "300 MiB hold two tasks of 128 MiB; two wait");
            assertTrue(service.getJsonArray("events").stream().map(e -> ((JsonObject) e).getString("message"))
                    .anyMatch(m -> m.equals("(service web) was unable to place a task. Reason: no ACTIVE node has 128 MiB"
                            + " memory free.")), service.getJsonArray("events")::encodePrettily);
            c.addNode("big", 4096, 4096);
            c.stepUntil(20, () -> counts(c, "web").healthy() == 4 && "COMPLETED".equals(primary(c.service("web"))
                    .getString("rolloutState")), () -> true);

            c.call("UpdateService", new JsonObject().put("service", "web").put("desiredCount", 1));
            c.stepUntil(20, () -> counts(c, "web").alive() == 1, () -> true);
            assertTrue(c.tasks("web").stream().anyMatch(t -> "Service scaled in".equals(t.getString("stoppedReason"))));

            JsonObject refused = null;
            try {
                c.call("DeleteService", new JsonObject().put("service", "web"));
            } catch (Exception e) {
                refused = new JsonObject().put("message", e.getCause().getMessage());
            }
            assertTrue(refused != null && refused.getString("message").contains("scale it to 0"), String.valueOf(refused));
            JsonObject deleting = c.call("DeleteService", new JsonObject().put("service", "web").put("force", true))
                    .getJsonObject("service");
            assertEquals("DRAINING", deleting.getString("status"));
            c.stepUntil(10, () -> "INACTIVE".equals(c.service("web").getString("status")), () -> true);
            assertEquals(0, counts(c, "web").alive());
            assertEquals(List.of(), c.call("ListServices", new JsonObject()).getJsonArray("serviceArns").getList());
            // The name is free again.
            assertEquals("ACTIVE", c.call("CreateService", createService(1, 100, 200, false)).getJsonObject("service")
                    .getString("status"));
        }
    }

    private static JsonObject deployment(JsonObject service, String id) {
        return service.getJsonArray("deployments").stream().map(o -> (JsonObject) o)
                .filter(d -> d.getString("id").equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no deployment " + id + " in " + service.encodePrettily()));
    }

    static Set<String> ids(List<JsonObject> tasks) {
        return tasks.stream().map(t -> t.getString("taskArn")).collect(Collectors.toSet());
    }
}
