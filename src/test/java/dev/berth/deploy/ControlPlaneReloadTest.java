package dev.berth.deploy;

import static dev.berth.deploy.SimulatedCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.agent.protocol.Messages;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review: a StopCandidates frame without taskArns (valid JSON) makes confirmStops throw an NPE
 * inside a state-machine command; the machine reloads its state from the database and loses every
 * heartbeat kept only in memory (refreshNode), so a healthy, heart-beating node is declared LOST.
 */
/** Heartbeats, malformed agent input and state reloads: healthy nodes are never declared lost by accident. */
class ControlPlaneReloadTest {
    @TempDir
    Path tmp;

    private String runOneTask(SimulatedCluster sim, String node) throws Exception {
        sim.registerTaskDefinition("web", "team/web:1", false, 64);
        String task = sim.call("StartTask", new JsonObject().put("taskDefinition", "web")
                        .put("containerInstances", new JsonArray().add(node)))
                .getJsonArray("tasks").getJsonObject(0).getString("taskArn");
        await(sim.controlPlane.agentReport(node, new Messages.TaskStateChange(task, 1, "RUNNING", null, List.of(), null)));
        return task;
    }

    private String lastStatus(SimulatedCluster sim, String task) throws Exception {
        return sim.call("DescribeTasks", new JsonObject().put("tasks", new JsonArray().add(task)))
                .getJsonArray("tasks").getJsonObject(0).getString("lastStatus");
    }

    /** 70 s of regular heartbeats (every 10 s, as the gateway relays them), with the periodic tick. */
    private void heartbeatFor70s(SimulatedCluster sim, String node) throws Exception {
        for (int i = 0; i < 7; i++) {
            sim.clock.advance(Duration.ofSeconds(10));
            await(sim.controlPlane.agentSession(node, true));
            await(sim.controlPlane.tick());
        }
    }

    @Test
    void control_aHeartbeatingNodeKeepsItsTask() throws Exception {
        try (SimulatedCluster sim = new SimulatedCluster(tmp, i -> SimulatedCluster.Behaviour.HEALTHY)) {
            String node = sim.addNode("a", 1024, 1024);
            String task = runOneTask(sim, node);
            heartbeatFor70s(sim, node);
            sim.clock.advance(Duration.ofSeconds(1));
            await(sim.controlPlane.tick());
            assertEquals("RUNNING", lastStatus(sim, task));
        }
    }

    @Test
    void aMalformedStopCandidatesListIsEmptyAndChangesNothing() throws Exception {
        try (SimulatedCluster sim = new SimulatedCluster(tmp, i -> SimulatedCluster.Behaviour.HEALTHY)) {
            String node = sim.addNode("a", 1024, 1024);
            String task = runOneTask(sim, node);
            heartbeatFor70s(sim, node);
            // what AgentGateway passes for {"type":"StopCandidates","message":{"requestId":1}}
            assertEquals(List.of(), await(sim.controlPlane.confirmStops(node, null)));
            sim.clock.advance(Duration.ofSeconds(1));
            await(sim.controlPlane.tick());
            assertEquals("RUNNING", lastStatus(sim, task));
        }
    }

    /** Heartbeats live in memory: a reload forgets the recent ones, so it grants every node a fresh grace period. */
    @Test
    void aReloadOfTheStateDoesNotMakeHeartbeatingNodesLost() throws Exception {
        try (SimulatedCluster sim = new SimulatedCluster(tmp, i -> SimulatedCluster.Behaviour.HEALTHY)) {
            String node = sim.addNode("a", 1024, 1024);
            String task = runOneTask(sim, node);
            heartbeatFor70s(sim, node);
            await(sim.controlPlane.reloadState());
            sim.clock.advance(Duration.ofSeconds(1));
            await(sim.controlPlane.tick());
            assertEquals("RUNNING", lastStatus(sim, task), "not lost because of the reload");
            sim.clock.advance(Duration.ofSeconds(61));
            await(sim.controlPlane.tick());
            assertEquals("STOPPED", lastStatus(sim, task), "a node that really went silent is still lost");
        }
    }
}
