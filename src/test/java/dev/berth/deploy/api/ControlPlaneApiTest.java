package dev.berth.deploy.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control-plane actions over HTTP against a real server: clusters, task definitions, nodes, tasks. */
class ControlPlaneApiTest {
    @TempDir
    Path storage;

    static JsonObject taskDefinition(String family, int memory, Integer hostPort) {
        JsonObject port = new JsonObject().put("containerPort", 80);
        if (hostPort != null) {
            port.put("hostPort", hostPort);
        }
        return new JsonObject().put("family", family).put("containerDefinitions", new JsonArray().add(new JsonObject()
                .put("name", "web").put("image", "127.0.0.1:5000/team/web:v1").put("memory", memory).put("cpu", 128)
                .put("portMappings", new JsonArray().add(port))));
    }

    static JsonObject run(String cluster, String taskDefinition, int count) {
        return new JsonObject().put("cluster", cluster).put("taskDefinition", taskDefinition).put("count", count);
    }

    @Test
    void clustersCanBeCreatedListedDescribedAndDeletedOnlyWhenEmpty() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            JsonObject described = api.ok("DescribeClusters", "{}");
            assertEquals("default", described.getJsonArray("clusters").getJsonObject(0).getString("clusterName"));
            assertEquals("ACTIVE", described.getJsonArray("clusters").getJsonObject(0).getString("status"));

            JsonObject created = api.ok("CreateCluster", new JsonObject().put("clusterName", "prod")).getJsonObject("cluster");
            assertEquals("prod", created.getString("clusterName"));
            assertEquals(0, created.getInteger("registeredContainerInstancesCount"));
            Instant.parse(created.getString("createdAt"));
            // Creating it again answers the same cluster.
            assertEquals(created.getString("createdAt"), api.ok("CreateCluster", new JsonObject().put("clusterName", "prod"))
                    .getJsonObject("cluster").getString("createdAt"));
            api.ok("CreateCluster", new JsonObject().put("clusterName", "staging"));

            JsonObject first = api.ok("ListClusters", new JsonObject().put("maxResults", 2));
            assertEquals(List.of("default", "prod"), first.getJsonArray("clusterArns").getList());
            JsonObject second = api.ok("ListClusters", new JsonObject().put("maxResults", 2)
                    .put("nextToken", first.getString("nextToken")));
            assertEquals(List.of("staging"), second.getJsonArray("clusterArns").getList());
            assertNull(second.getString("nextToken"));

            JsonObject mixed = api.ok("DescribeClusters", new JsonObject().put("clusters", new JsonArray().add("prod").add("nope")));
            assertEquals(1, mixed.getJsonArray("clusters").size());
            assertEquals(new JsonObject().put("arn", "nope").put("reason", "MISSING"), mixed.getJsonArray("failures").getJsonObject(0));

            api.error("DeleteCluster", new JsonObject().put("cluster", "default"), 400, "ClientException", "cluster");
            String node = api.registerNode("prod", 1024, 2048);
            api.error("DeleteCluster", new JsonObject().put("cluster", "prod"), 409,
                    "ClusterContainsContainerInstancesException", "cluster");
            api.ok("RegisterTaskDefinition", taskDefinition("web", 256, null));
            String task = api.ok("RunTask", run("prod", "web", 1)).getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            api.error("DeregisterContainerInstance", new JsonObject().put("cluster", "prod").put("containerInstance", node),
                    409, "ClientException", "containerInstance");
            api.ok("StopTask", new JsonObject().put("cluster", "prod").put("task", task));
            api.report("prod", task, "STOPPED");
            api.ok("DeregisterContainerInstance", new JsonObject().put("cluster", "prod").put("containerInstance", node));
            JsonObject deleted = api.ok("DeleteCluster", new JsonObject().put("cluster", "prod")).getJsonObject("cluster");
            assertEquals("INACTIVE", deleted.getString("status"));
            assertEquals("MISSING", api.ok("DescribeClusters", new JsonObject().put("clusters", new JsonArray().add("prod")))
                    .getJsonArray("failures").getJsonObject(0).getString("reason"));
            api.error("RunTask", run("prod", "web", 1), 404, "ClusterNotFoundException", "cluster");
            api.error("DeleteCluster", new JsonObject().put("cluster", "prod"), 404, "ClusterNotFoundException", "cluster");
        }
    }

    @Test
    void taskDefinitionsGetRevisionsDefaultsAndCanBeDeregistered() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            JsonObject r1 = api.ok("RegisterTaskDefinition", taskDefinition("web", 256, null)).getJsonObject("taskDefinition");
            assertEquals(1, r1.getInteger("revision"));
            assertEquals("web:1", r1.getString("taskDefinitionArn"));
            assertEquals("ACTIVE", r1.getString("status"));
            assertEquals("bridge", r1.getString("networkMode"));
            JsonObject c = r1.getJsonArray("containerDefinitions").getJsonObject(0);
            assertEquals(true, c.getBoolean("essential"));
            assertEquals(30, c.getInteger("stopTimeout"));
            assertEquals(new JsonObject().put("containerPort", 80).put("hostPort", 0).put("protocol", "tcp"),
                    c.getJsonArray("portMappings").getJsonObject(0));
            JsonObject r2 = api.ok("RegisterTaskDefinition", taskDefinition("web", 512, 8080)).getJsonObject("taskDefinition");
            assertEquals(2, r2.getInteger("revision"));
            api.ok("RegisterTaskDefinition", taskDefinition("api", 128, null));

            assertEquals(2, api.ok("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web"))
                    .getJsonObject("taskDefinition").getInteger("revision"));
            JsonObject dereg = api.ok("DeregisterTaskDefinition", new JsonObject().put("taskDefinition", "web:2"))
                    .getJsonObject("taskDefinition");
            assertEquals("INACTIVE", dereg.getString("status"));
            assertNotNull(dereg.getString("deregisteredAt"));
            // The family's latest ACTIVE revision is now 1; the INACTIVE one can still be described but not run.
            assertEquals(1, api.ok("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web"))
                    .getJsonObject("taskDefinition").getInteger("revision"));
            assertEquals("INACTIVE", api.ok("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web:2"))
                    .getJsonObject("taskDefinition").getString("status"));
            api.error("RunTask", run("default", "web:2", 1), 400, "ClientException", "taskDefinition");

            assertEquals(List.of("api:1", "web:1", "web:2"), api.ok("ListTaskDefinitions", "{}")
                    .getJsonArray("taskDefinitionArns").getList());
            assertEquals(List.of("web:1", "api:1"), api.ok("ListTaskDefinitions", new JsonObject().put("status", "ACTIVE")
                    .put("sort", "DESC")).getJsonArray("taskDefinitionArns").getList());
            JsonObject page1 = api.ok("ListTaskDefinitions", new JsonObject().put("sort", "DESC").put("maxResults", 2));
            assertEquals(List.of("web:2", "web:1"), page1.getJsonArray("taskDefinitionArns").getList());
            JsonObject page2 = api.ok("ListTaskDefinitions", new JsonObject().put("sort", "DESC").put("maxResults", 2)
                    .put("nextToken", page1.getString("nextToken")));
            assertEquals(List.of("api:1"), page2.getJsonArray("taskDefinitionArns").getList());
            assertEquals(List.of("web:1", "web:2"), api.ok("ListTaskDefinitions", new JsonObject().put("familyPrefix", "we"))
                    .getJsonArray("taskDefinitionArns").getList());
            assertEquals(List.of("api", "web"), api.ok("ListTaskDefinitionFamilies", "{}").getJsonArray("families").getList());
            api.ok("DeregisterTaskDefinition", new JsonObject().put("taskDefinition", "api:1"));
            assertEquals(List.of("web"), api.ok("ListTaskDefinitionFamilies", "{}").getJsonArray("families").getList());
            assertEquals(List.of("api"), api.ok("ListTaskDefinitionFamilies", new JsonObject().put("status", "INACTIVE")
                    .put("familyPrefix", "a")).getJsonArray("families").getList());
        }
    }

    @Test
    void tasksArePlacedWaitWithAReasonWhenNothingFitsAndArePlacedWhenCapacityAppears() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("RegisterTaskDefinition", taskDefinition("web", 512, null));
            // No node at all: the task waits with a reason.
            JsonObject lonely = api.ok("RunTask", run("default", "web", 1)).getJsonArray("tasks").getJsonObject(0);
            assertEquals("PENDING", lonely.getString("lastStatus"));
            assertEquals("RUNNING", lonely.getString("desiredStatus"));
            assertNull(lonely.getString("containerInstanceArn"));
            assertEquals("cluster default has no nodes", lonely.getString("pendingReason"));
            api.ok("StopTask", new JsonObject().put("task", lonely.getString("taskArn")));
            JsonObject stoppedUnplaced = api.task("default", lonely.getString("taskArn"));
            assertEquals("STOPPED", stoppedUnplaced.getString("lastStatus"), "never placed: stops at once");
            assertEquals("UserInitiated", stoppedUnplaced.getString("stopCode"));

            String a = api.registerNode("default", 2048, 1024);
            JsonArray tasks = api.ok("RunTask", run("default", "web", 3)).getJsonArray("tasks");
            assertEquals(3, tasks.size());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(tasks.getJsonObject(i).getString("taskArn"));
            }
            assertEquals(a, tasks.getJsonObject(0).getString("containerInstanceArn"));
            assertEquals(a, tasks.getJsonObject(1).getString("containerInstanceArn"));
            JsonObject waiting = tasks.getJsonObject(2);
            assertNull(waiting.getString("containerInstanceArn"));
            assertEquals("PENDING", waiting.getString("lastStatus"));
            assertEquals("no ACTIVE node has 512 MiB memory free", waiting.getString("pendingReason"));
            JsonObject full = api.node("default", a);
            assertEquals(0, full.getJsonObject("remainingResources").getInteger("memory"));
            assertEquals(2048 - 256, full.getJsonObject("remainingResources").getInteger("cpu"));
            assertEquals(2, full.getInteger("pendingTasksCount"));

            // Capacity appears: the waiting task is placed on the new node at once.
            String b = api.registerNode("default", 1024, 1024);
            JsonObject placed = api.task("default", ids.get(2));
            assertEquals(b, placed.getString("containerInstanceArn"));
            assertNull(placed.getString("pendingReason"));

            // One on A runs, then stops: its memory returns.
            api.report("default", ids.get(0), "RUNNING");
            JsonObject running = api.task("default", ids.get(0));
            assertEquals("RUNNING", running.getString("lastStatus"));
            assertNotNull(running.getString("startedAt"));
            assertEquals(1, api.node("default", a).getInteger("runningTasksCount"));
            JsonObject stopping = api.ok("StopTask", new JsonObject().put("task", ids.get(0)).put("reason", "scaling in"))
                    .getJsonObject("task");
            assertEquals("STOPPING", stopping.getString("lastStatus"));
            assertEquals("STOPPED", stopping.getString("desiredStatus"));
            assertEquals(0, api.node("default", a).getJsonObject("remainingResources").getInteger("memory"),
                    "a STOPPING task still holds its memory");
            api.report("default", ids.get(0), "RUNNING"); // late report: changes nothing
            assertEquals("STOPPING", api.task("default", ids.get(0)).getString("lastStatus"));
            api.report("default", ids.get(0), "STOPPED");
            JsonObject stopped = api.task("default", ids.get(0));
            assertEquals("STOPPED", stopped.getString("lastStatus"));
            assertEquals("UserInitiated", stopped.getString("stopCode"));
            assertEquals("scaling in", stopped.getString("stoppedReason"));
            assertEquals(512, api.node("default", a).getJsonObject("remainingResources").getInteger("memory"));
            api.report("default", ids.get(0), "RUNNING"); // a report after STOPPED changes nothing
            assertEquals("STOPPED", api.task("default", ids.get(0)).getString("lastStatus"));

            // Filters.
            assertEquals(Set.of(ids.get(1)), listTasks(api, new JsonObject().put("containerInstance", a)
                    .put("desiredStatus", "RUNNING")));
            assertEquals(Set.of(lonely.getString("taskArn"), ids.get(0)), listTasks(api, new JsonObject()
                    .put("desiredStatus", "STOPPED")));
            assertEquals(Set.of(ids.get(1), ids.get(2)), listTasks(api, new JsonObject().put("desiredStatus", "PENDING")));
            assertEquals(4, listTasks(api, new JsonObject().put("family", "web")).size());
            assertEquals(Set.of(), listTasks(api, new JsonObject().put("family", "we")));
        }
    }

    @Test
    void nodeReportsMoveTasksForwardOnlyAndSayWhyTheyStopped() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("RegisterTaskDefinition", taskDefinition("web", 128, 8080));
            String node = api.registerNode("default", 4096, 4096);
            JsonArray started = api.ok("StartTask", new JsonObject().put("taskDefinition", "web:1")
                    .put("containerInstances", new JsonArray().add(node).add(node))).getJsonArray("tasks");
            assertEquals(1, started.size(), "host port 8080 fits once on the node");
            JsonObject second = api.ok("StartTask", new JsonObject().put("taskDefinition", "web:1")
                    .put("containerInstances", new JsonArray().add(node)));
            assertEquals(0, second.getJsonArray("tasks").size());
            assertEquals("no ACTIVE node has host port 8080/tcp free",
                    second.getJsonArray("failures").getJsonObject(0).getString("reason"));
            String crashing = started.getJsonObject(0).getString("taskArn");
            JsonArray binding = new JsonArray().add(new JsonObject().put("bindIP", "0.0.0.0").put("containerPort", 80)
                    .put("hostPort", 8080).put("protocol", "tcp"));
            api.ok("SubmitTaskStateChange", new JsonObject().put("task", crashing).put("status", "RUNNING")
                    .put("healthStatus", "HEALTHY").put("containers", new JsonArray().add(new JsonObject()
                            .put("containerName", "web").put("status", "RUNNING").put("networkBindings", binding))));
            JsonObject running = api.task("default", crashing);
            assertEquals("HEALTHY", running.getString("healthStatus"));
            assertEquals(binding, running.getJsonArray("containers").getJsonObject(0).getJsonArray("networkBindings"));
            api.report("default", crashing, "PENDING");
            assertEquals("RUNNING", api.task("default", crashing).getString("lastStatus"), "statuses never move back");
            api.ok("SubmitTaskStateChange", new JsonObject().put("task", crashing).put("status", "STOPPED")
                    .put("containers", new JsonArray().add(new JsonObject().put("containerName", "web").put("status", "STOPPED")
                            .put("exitCode", 137).put("reason", "OOMKilled"))));
            JsonObject crashed = api.task("default", crashing);
            assertEquals("STOPPED", crashed.getString("lastStatus"));
            assertEquals("STOPPED", crashed.getString("desiredStatus"));
            assertEquals("EssentialContainerExited", crashed.getString("stopCode"));
            assertEquals(137, crashed.getJsonArray("containers").getJsonObject(0).getInteger("exitCode"));
            assertEquals("OOMKilled", crashed.getJsonArray("containers").getJsonObject(0).getString("reason"));

            String neverRan = api.ok("StartTask", new JsonObject().put("taskDefinition", "web")
                    .put("containerInstances", new JsonArray().add(node))).getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            api.ok("SubmitTaskStateChange", new JsonObject().put("task", neverRan).put("status", "STOPPED")
                    .put("reason", "CannotPullContainerError: manifest unknown"));
            JsonObject failed = api.task("default", neverRan);
            assertEquals("TaskFailedToStart", failed.getString("stopCode"));
            assertEquals("CannotPullContainerError: manifest unknown", failed.getString("stoppedReason"));
        }
    }

    @Test
    void drainingNodesReceiveNoNewTasks() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("RegisterTaskDefinition", taskDefinition("web", 128, null));
            String a = api.registerNode("default", 1024, 1024, new JsonObject().put("name", "zone").put("value", "a"));
            String b = api.registerNode("default", 1024, 1024, new JsonObject().put("name", "zone").put("value", "b"));
            JsonObject drained = api.ok("UpdateContainerInstancesState", new JsonObject()
                    .put("containerInstances", new JsonArray().add(a).add("nope")).put("status", "DRAINING"));
            assertEquals("DRAINING", drained.getJsonArray("containerInstances").getJsonObject(0).getString("status"));
            assertEquals("nope", drained.getJsonArray("failures").getJsonObject(0).getString("arn"));
            assertEquals(List.of(a), api.ok("ListContainerInstances", new JsonObject().put("status", "DRAINING"))
                    .getJsonArray("containerInstanceArns").getList());
            JsonArray placed = api.ok("RunTask", run("default", "web", 3)).getJsonArray("tasks");
            for (int i = 0; i < 3; i++) {
                assertEquals(b, placed.getJsonObject(i).getString("containerInstanceArn"));
            }
            // memberOf a zone that only the draining node is in: nothing fits.
            JsonObject constrained = run("default", "web", 1).put("placementConstraints", new JsonArray()
                    .add(new JsonObject().put("type", "memberOf").put("expression", "attribute:zone == a")));
            assertEquals("no ACTIVE node matches memberOf(attribute:zone == a)", api.ok("RunTask", constrained)
                    .getJsonArray("tasks").getJsonObject(0).getString("pendingReason"));
            api.ok("UpdateContainerInstancesState", new JsonObject()
                    .put("containerInstances", new JsonArray().add(b)).put("status", "DRAINING"));
            assertEquals("no ACTIVE node (every node is DRAINING)", api.ok("RunTask", run("default", "web", 1))
                    .getJsonArray("tasks").getJsonObject(0).getString("pendingReason"));
            // Back to ACTIVE: both waiting tasks find a place (the zone-a one on a).
            api.ok("UpdateContainerInstancesState", new JsonObject()
                    .put("containerInstances", new JsonArray().add(a).add(b)).put("status", "ACTIVE"));
            Set<String> pending = listTasks(api, new JsonObject().put("desiredStatus", "PENDING"));
            assertEquals(5, pending.size());
            for (String id : pending) {
                assertNotNull(api.task("default", id).getString("containerInstanceArn"), id);
            }
            String spreadA = api.ok("RunTask", run("default", "web", 1).put("placementStrategy", new JsonArray()
                    .add(new JsonObject().put("type", "spread").put("field", "attribute:zone"))))
                    .getJsonArray("tasks").getJsonObject(0).getString("containerInstanceArn");
            assertEquals(a, spreadA, "zone a runs 1 task of the group, zone b 3");
        }
    }

    @Test
    void aNodeJoinsTheClusterItsJoinTokenNames() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("CreateCluster", new JsonObject().put("clusterName", "prod"));
            JsonObject created = api.ok("CreateJoinToken", new JsonObject().put("cluster", "prod"));
            String token = created.getString("joinToken");
            assertTrue(token.startsWith("bjt."), token);
            assertEquals("prod", created.getString("cluster"));
            Instant.parse(created.getString("expiresAt"));
            JsonObject resources = new JsonObject().put("cpu", 1024).put("memory", 1024);
            JsonObject node = api.ok("RegisterContainerInstance", new JsonObject().put("joinToken", token)
                    .put("totalResources", resources)).getJsonObject("containerInstance");
            assertEquals("prod", node.getString("cluster"));
            assertEquals(List.of(node.getString("containerInstanceArn")), api.ok("ListContainerInstances",
                    new JsonObject().put("cluster", "prod")).getJsonArray("containerInstanceArns").getList());

            String forged = token.substring(0, token.length() - 1) + (token.endsWith("0") ? "1" : "0");
            api.error("RegisterContainerInstance", new JsonObject().put("joinToken", forged).put("totalResources", resources),
                    401, "InvalidJoinTokenException", "joinToken");
            api.error("RegisterContainerInstance", new JsonObject().put("joinToken", "bjt.nope.nope").put("totalResources",
                    resources), 401, "InvalidJoinTokenException", "joinToken");
            // Single-use by default: the token that made the node is spent.
            assertEquals(1, created.getInteger("uses"));
            api.error("RegisterContainerInstance", new JsonObject().put("joinToken", token).put("totalResources", resources),
                    401, "InvalidJoinTokenException", "joinToken");
            String twice = api.ok("CreateJoinToken", new JsonObject().put("cluster", "prod").put("uses", 2))
                    .getString("joinToken");
            api.error("RegisterContainerInstance", new JsonObject().put("joinToken", twice).put("cluster", "default")
                    .put("totalResources", resources), 400, "InvalidParameterException", "cluster");
            // A refused registration spent nothing: both uses are left.
            api.ok("RegisterContainerInstance", new JsonObject().put("joinToken", twice).put("totalResources", resources));
            api.ok("RegisterContainerInstance", new JsonObject().put("joinToken", twice).put("totalResources", resources));
            api.error("RegisterContainerInstance", new JsonObject().put("joinToken", twice).put("totalResources", resources),
                    401, "InvalidJoinTokenException", "joinToken");
            api.error("CreateJoinToken", new JsonObject().put("cluster", "prod").put("uses", 0), 400,
                    "InvalidParameterException", "uses");
            api.error("CreateJoinToken", new JsonObject().put("cluster", "prod").put("expiresInSeconds", 5), 400,
                    "InvalidParameterException", "expiresInSeconds");
            api.error("CreateJoinToken", new JsonObject().put("cluster", "nope"), 404, "ClusterNotFoundException", "cluster");
            assertEquals(3, api.ok("ListContainerInstances", new JsonObject().put("cluster", "prod"))
                    .getJsonArray("containerInstanceArns").size(), "refused registrations added no node");
        }
    }

    @Test
    void theExampleTaskDefinitionInConfigRegisters() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            String example = java.nio.file.Files.readString(Path.of("config/examples/taskdef-web.json"));
            JsonObject td = api.ok("RegisterTaskDefinition", example).getJsonObject("taskDefinition");
            assertEquals("web:1", td.getString("taskDefinitionArn"));
            assertEquals(5, td.getJsonArray("containerDefinitions").getJsonObject(0).getJsonObject("healthCheck")
                    .getInteger("interval"));
        }
    }

    @Test
    void stateSurvivesARestart() throws Exception {
        String node;
        String task;
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("CreateCluster", new JsonObject().put("clusterName", "prod"));
            api.ok("RegisterTaskDefinition", taskDefinition("web", 128, null));
            api.ok("RegisterTaskDefinition", taskDefinition("web", 128, null));
            api.ok("DeregisterTaskDefinition", new JsonObject().put("taskDefinition", "web:1"));
            node = api.registerNode("prod", 1024, 1024);
            task = api.ok("RunTask", run("prod", "web", 1)).getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            api.report("prod", task, "RUNNING");
        }
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            assertEquals(List.of("default", "prod"), api.ok("ListClusters", "{}").getJsonArray("clusterArns").getList());
            assertEquals("INACTIVE", api.ok("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web:1"))
                    .getJsonObject("taskDefinition").getString("status"));
            assertEquals(3, api.ok("RegisterTaskDefinition", taskDefinition("web", 128, null))
                    .getJsonObject("taskDefinition").getInteger("revision"), "revisions keep counting");
            JsonObject t = api.task("prod", task);
            assertEquals("RUNNING", t.getString("lastStatus"));
            assertEquals(node, t.getString("containerInstanceArn"));
            assertEquals(1024 - 128, api.node("prod", node).getJsonObject("remainingResources").getInteger("memory"));
        }
    }

    @Test
    void badRequestsGetAnErrorNamingTheFieldAndChangeNothing() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.ok("RegisterTaskDefinition", taskDefinition("web", 128, null));
            String node = api.registerNode("default", 1024, 1024);
            String task = api.ok("RunTask", run("default", "web", 1)).getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            String before = snapshot(api, node, task);

            JsonObject td = taskDefinition("web", 128, null);
            td.getJsonArray("containerDefinitions").getJsonObject(0).put("imagee", "x");
            api.error("RegisterTaskDefinition", td, 400, "InvalidParameterException", "containerDefinitions[0].imagee");
            api.error("RegisterTaskDefinition", taskDefinition("web", 2, null), 400, "InvalidParameterException",
                    "containerDefinitions[0].memory");
            api.error("RegisterTaskDefinition", taskDefinition("web", 128, 70000), 400, "InvalidParameterException",
                    "containerDefinitions[0].portMappings[0].hostPort");
            api.error("RegisterTaskDefinition", taskDefinition("bad name", 128, null), 400, "InvalidParameterException", "family");
            api.error("RegisterTaskDefinition", taskDefinition("web", 128, null).put("networkMode", "awsvpc"), 400,
                    "InvalidParameterException", "networkMode");
            api.error("RegisterTaskDefinition", "{\"family\":\"web\",\"containerDefinitions\":{}}", 400,
                    "InvalidParameterException", "containerDefinitions");
            api.error("RegisterTaskDefinition", "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"b\","
                    + "\"memory\":\"lots\"}]}", 400, "InvalidParameterException", "containerDefinitions[0].memory");
            api.error("RegisterTaskDefinition", "{\"family\":", 400, "InvalidParameterException", null);
            api.error("RegisterTaskDefinition", "[1,2]", 400, "InvalidParameterException", null);
            api.error("RegisterTaskDefinition", "{\"family\":\"web\"} trailing", 400, "InvalidParameterException", null);
            api.error("CreateCluster", "{}", 400, "InvalidParameterException", "clusterName");
            api.error("CreateCluster", new JsonObject().put("clusterName", "a/b"), 400, "InvalidParameterException", "clusterName");
            api.error("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web:x"), 400,
                    "InvalidParameterException", "taskDefinition");
            api.error("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web:9"), 404,
                    "TaskDefinitionNotFoundException", "taskDefinition");
            api.error("DeregisterTaskDefinition", new JsonObject().put("taskDefinition", "web"), 400,
                    "InvalidParameterException", "taskDefinition");
            api.error("ListTaskDefinitions", new JsonObject().put("sort", "UP"), 400, "InvalidParameterException", "sort");
            api.error("ListTaskDefinitions", new JsonObject().put("maxResults", 0), 400, "InvalidParameterException", "maxResults");
            api.error("ListTaskDefinitions", new JsonObject().put("nextToken", "garbage!"), 400, "InvalidParameterException",
                    "nextToken");
            api.error("ListClusters", new JsonObject().put("maxResults", 101), 400, "InvalidParameterException", "maxResults");
            api.error("RunTask", run("default", "web", 11), 400, "InvalidParameterException", "count");
            api.error("RunTask", run("default", "nope", 1), 404, "TaskDefinitionNotFoundException", "taskDefinition");
            api.error("RunTask", run("default", "web", 1).put("placementStrategy", new JsonArray()
                    .add(new JsonObject().put("type", "binpack").put("field", "disk"))), 400, "InvalidParameterException",
                    "placementStrategy[0].field");
            api.error("RunTask", run("default", "web", 1).put("placementConstraints", new JsonArray()
                    .add(new JsonObject().put("type", "memberOf").put("expression", "attribute:zone ==="))), 400,
                    "InvalidParameterException", "placementConstraints[0].expression");
            api.error("RunTask", run("default", "web", 1).put("group", "service:x"), 400, "InvalidParameterException", "group");
            api.error("RunTask", run("default", "web", 1).put("count", 1.5), 400, "InvalidParameterException", "count");
            api.error("StartTask", new JsonObject().put("taskDefinition", "web").put("containerInstances", new JsonArray()), 400,
                    "InvalidParameterException", "containerInstances");
            api.error("StartTask", new JsonObject().put("taskDefinition", "web").put("containerInstances",
                    new JsonArray().add(node).add("nope")), 404, "ContainerInstanceNotFoundException", "containerInstances[1]");
            api.error("StopTask", new JsonObject().put("task", "nope"), 404, "TaskNotFoundException", "task");
            api.error("StopTask", new JsonObject(), 400, "InvalidParameterException", "task");
            api.error("ListTasks", new JsonObject().put("desiredStatus", "DONE"), 400, "InvalidParameterException", "desiredStatus");
            api.error("ListTasks", new JsonObject().put("containerInstance", "nope"), 404, "ContainerInstanceNotFoundException",
                    "containerInstance");
            api.error("DescribeTasks", new JsonObject().put("tasks", new JsonArray()), 400, "InvalidParameterException", "tasks");
            api.error("RegisterContainerInstance", new JsonObject().put("totalResources", new JsonObject().put("cpu", 1)
                    .put("memory", 1)), 400, "InvalidParameterException", "totalResources.memory");
            api.error("RegisterContainerInstance", new JsonObject().put("totalResources", new JsonObject().put("cpu", 1)
                    .put("memory", 1024).put("ports", new JsonArray().add("80/sctp"))), 400, "InvalidParameterException",
                    "totalResources.ports[0]");
            api.error("RegisterContainerInstance", new JsonObject().put("totalResources", new JsonObject().put("cpu", 1)
                    .put("memory", 1024)).put("attributes", new JsonArray().add(new JsonObject().put("name", "a b"))), 400,
                    "InvalidParameterException", "attributes[0].name");
            api.error("UpdateContainerInstancesState", new JsonObject().put("containerInstances", new JsonArray().add(node))
                    .put("status", "GONE"), 400, "InvalidParameterException", "status");
            api.error("SubmitTaskStateChange", new JsonObject().put("task", task).put("status", "EXPLODED"), 400,
                    "InvalidParameterException", "status");
            api.error("SubmitTaskStateChange", new JsonObject().put("task", task).put("status", "RUNNING")
                    .put("containers", new JsonArray().add(new JsonObject().put("containerName", "db"))), 400,
                    "InvalidParameterException", "containers[0].containerName");
            api.error("SubmitTaskStateChange", new JsonObject().put("task", task).put("status", "RUNNING")
                    .put("healthStatus", "FINE"), 400, "InvalidParameterException", "healthStatus");
            api.error("DescribeClusters", new JsonObject().put("cluster", "default"), 400, "InvalidParameterException", "cluster");

            assertEquals(before, snapshot(api, node, task), "refused requests changed nothing");
        }
    }

    @Test
    void theActionRouteAnswersUnknownActionsMethodsAndOversizedBodiesInTheApiErrorFormat() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            api.error("LaunchRockets", "{}", 404, "UnknownOperationException", null);
            HttpResponse<byte[]> get = registry.client().get("/api/CreateCluster");
            assertNotEquals(200, get.statusCode());
            assertTrue(new String(get.body()).contains("\"error\""), new String(get.body()));
            String huge = "{\"family\":\"" + "x".repeat(1_100_000) + "\"}";
            HttpResponse<byte[]> tooLarge = api.raw("RegisterTaskDefinition", huge);
            assertEquals(413, tooLarge.statusCode());
            assertEquals("RequestTooLarge", new JsonObject(new String(tooLarge.body())).getJsonObject("error").getString("code"));
            assertEquals(List.of(), api.ok("ListTaskDefinitions", "").getJsonArray("taskDefinitionArns").getList(),
                    "an empty body is an empty request");
        }
    }

    private static Set<String> listTasks(ControlPlaneClient api, JsonObject filter) {
        return api.ok("ListTasks", filter).getJsonArray("taskArns").stream().map(Object::toString).collect(Collectors.toSet());
    }

    /** Everything a refused request could have touched, as text. */
    private static String snapshot(ControlPlaneClient api, String node, String task) {
        return api.ok("ListClusters", "{}").encode() + api.ok("ListTaskDefinitions", "{}").encode()
                + api.ok("DescribeTaskDefinition", new JsonObject().put("taskDefinition", "web")).encode()
                + api.node("default", node).encode() + api.task("default", task).encode()
                + api.ok("ListTasks", "{}").encode() + api.ok("ListContainerInstances", "{}").encode();
    }
}
