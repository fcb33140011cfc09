package dev.berth.agent;

import static dev.berth.agent.AgentRolloutTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.agent.docker.DockerEngine;
import dev.berth.agent.protocol.Messages;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.RegisterTaskDefinitionRequest;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on the agent protocol, both ends: forged tokens and node ids are refused at the
 * handshake; malformed frames, unknown types, a wrong protocol version, reports about another node's
 * tasks and stale sequence numbers are rejected or ignored, and the session goes on unharmed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentProtocolTest {
    @TempDir
    Path tmp;
    private Vertx vertx;

    @BeforeEach
    void open() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private WebSocket connect(TestRegistry registry, String token, BlockingQueue<Messages.Frame> inbox) throws Exception {
        WebSocketClient client = vertx.createWebSocketClient();
        WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(
                registry.baseUrl().replace("http", "ws") + "/api/agents/connect");
        if (token != null) {
            options.addHeader("Authorization", "Bearer " + token);
        }
        WebSocket ws = await(client.connect(options));
        ws.textMessageHandler(text -> {
            try {
                inbox.add(Messages.decode(text));
            } catch (java.io.IOException e) {
                inbox.add(new Messages.Frame("Unreadable", null));
            }
        });
        return ws;
    }

    private static Messages.Frame next(BlockingQueue<Messages.Frame> inbox, String type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            Messages.Frame f = inbox.poll(200, TimeUnit.MILLISECONDS);
            if (f != null && f.type().equals(type)) {
                return f;
            }
        }
        throw new AssertionError("no " + type + " frame");
    }

    private static JsonObject registerNode(RegistryClient c, String token) {
        var r = c.post("/api/agents/register", new JsonObject().put("joinToken", token).put("hostname", "n")
                .put("totalResources", new JsonObject().put("cpu", 1024).put("memory", 1024)).encode().getBytes());
        assertEquals(200, r.statusCode(), new String(r.body()));
        return new JsonObject(new String(r.body()));
    }

    @Test
    void theControllerRefusesForgeriesAndShrugsOffJunk() throws Exception {
        try (TestRegistry registry = TestRegistry.start(tmp.resolve("storage"))) {
            RegistryClient c = registry.client();
            String join = call(c, "CreateJoinToken", new JsonObject().put("uses", 2)).getString("joinToken");
            JsonObject one = registerNode(c, join);
            JsonObject two = registerNode(c, join);
            var noToken = c.post("/api/agents/register", "{}".getBytes());
            assertEquals(401, noToken.statusCode());
            String tokenOne = one.getString("agentToken");
            String secretTwo = two.getString("agentToken").substring(two.getString("agentToken").indexOf('.') + 1);

            for (String forged : new String[] {null, "garbage", one.getString("containerInstanceArn") + "." + secretTwo,
                    "nope." + secretTwo, tokenOne + "x"}) {
                ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> connect(registry, forged, new LinkedBlockingQueue<>()), String.valueOf(forged));
                assertTrue(e.getCause() instanceof UpgradeRejectedException u && u.getStatus() == 401, e.getCause().toString());
            }

            // A wrong protocol version is closed with 4001.
            BlockingQueue<Messages.Frame> junkInbox = new LinkedBlockingQueue<>();
            WebSocket old = connect(registry, tokenOne, junkInbox);
            io.vertx.core.Promise<Short> closedWith = io.vertx.core.Promise.promise();
            old.closeHandler(v -> closedWith.tryComplete(old.closeStatusCode()));
            old.writeTextMessage(Messages.encode(new Messages.Hello(99, "future", 0)));
            assertEquals((short) 4001, await(closedWith.future()));

            BlockingQueue<Messages.Frame> inbox = new LinkedBlockingQueue<>();
            WebSocket ws = connect(registry, tokenOne, inbox);
            ws.writeTextMessage("not json at all");
            ws.writeTextMessage("{\"type\":\"Bogus\",\"message\":{}}");
            ws.writeTextMessage("{\"type\":\"Hello\"}");
            ws.writeTextMessage("{\"type\":\"Ack\",\"message\":{\"seq\":\"x\"}}");
            ws.writeTextMessage(Messages.encode(new Messages.Hello(Messages.PROTOCOL_VERSION, "test", 0)));
            Messages.DesiredState first = Messages.read(next(inbox, "DesiredState"), Messages.DesiredState.class);
            assertEquals(List.of(), first.tasks());
            ws.writeTextMessage(Messages.encode(new Messages.Ack(first.seq())));

            // A task placed on node two: node one's report about it is dropped (acknowledged, not applied).
            call(c, "RegisterTaskDefinition", new JsonObject().put("family", "x").put("containerDefinitions", new JsonArray()
                    .add(new JsonObject().put("name", "x").put("image", "team/x:1").put("memory", 32))));
            String onTwo = call(c, "StartTask", new JsonObject().put("taskDefinition", "x").put("containerInstances",
                    new JsonArray().add(two.getString("containerInstanceArn")))).getJsonArray("tasks").getJsonObject(0)
                    .getString("taskArn");
            ws.writeTextMessage(Messages.encode(new Messages.TaskStateChange(onTwo, 1, "RUNNING", null, List.of(), null)));
            Messages.StateAck dropped = Messages.read(next(inbox, "StateAck"), Messages.StateAck.class);
            assertEquals(onTwo, dropped.taskArn());
            JsonObject untouched = call(c, "DescribeTasks", new JsonObject().put("tasks", new JsonArray().add(onTwo)))
                    .getJsonArray("tasks").getJsonObject(0);
            assertEquals("PENDING", untouched.getString("lastStatus"), "a forged report changed nothing");

            // A task on node one: reports apply once, in order; a stale sequence number changes nothing.
            String onOne = call(c, "StartTask", new JsonObject().put("taskDefinition", "x").put("containerInstances",
                    new JsonArray().add(one.getString("containerInstanceArn")))).getJsonArray("tasks").getJsonObject(0)
                    .getString("taskArn");
            Messages.DesiredState withTask = Messages.read(next(inbox, "DesiredState"), Messages.DesiredState.class);
            assertTrue(withTask.seq() > first.seq());
            assertEquals(onOne, withTask.tasks().get(0).taskArn());
            ws.writeTextMessage(Messages.encode(new Messages.TaskStateChange(onOne, 2, "STOPPED", "crashed", List.of(), null)));
            next(inbox, "StateAck");
            ws.writeTextMessage(Messages.encode(new Messages.TaskStateChange(onOne, 1, "RUNNING", null, List.of(), null)));
            next(inbox, "StateAck");
            JsonObject t = call(c, "DescribeTasks", new JsonObject().put("tasks", new JsonArray().add(onOne)))
                    .getJsonArray("tasks").getJsonObject(0);
            assertEquals("STOPPED", t.getString("lastStatus"));
            assertEquals("crashed", t.getString("stoppedReason"));
            // An invalid report (bad status) is acknowledged and dropped: the agent must not resend it forever.
            ws.writeTextMessage(Messages.encode(new Messages.TaskStateChange(onOne, 3, "EXPLODED", null, List.of(), null)));
            next(inbox, "StateAck");

            // Still a working session: heartbeats keep the node connected, new work still arrives.
            ws.writeTextMessage(Messages.encode(new Messages.Heartbeat(Instant.now())));
            assertTrue(call(c, "DescribeContainerInstances", new JsonObject().put("containerInstances", new JsonArray()
                    .add(one.getString("containerInstanceArn")))).getJsonArray("containerInstances").getJsonObject(0)
                    .getBoolean("agentConnected"));
            call(c, "StartTask", new JsonObject().put("taskDefinition", "x").put("containerInstances",
                    new JsonArray().add(one.getString("containerInstanceArn"))));
            next(inbox, "DesiredState");
            ws.close();
        }
    }

    @Test
    void theAgentIgnoresStaleSnapshotsAndJunkFromItsController() throws Exception {
        RequiredTools.docker();
        BlockingQueue<Messages.Frame> fromAgent = new LinkedBlockingQueue<>();
        ServerWebSocket[] session = new ServerWebSocket[1];
        HttpServer fake = vertx.createHttpServer().requestHandler(req -> {
            if (req.path().equals("/api/agents/register")) {
                req.response().putHeader("Content-Type", "application/json").end(new JsonObject()
                        .put("containerInstanceArn", "fake-node").put("cluster", "default").put("agentToken", "fake-node.s")
                        .encode());
            } else if (req.path().equals("/api/agents/connect")) {
                req.toWebSocket().onSuccess(ws -> {
                    session[0] = ws;
                    ws.textMessageHandler(text -> {
                        try {
                            fromAgent.add(Messages.decode(text));
                        } catch (java.io.IOException e) {
                            fail(e);
                        }
                    });
                });
            } else {
                req.response().setStatusCode(404).end();
            }
        });
        int port = await(fake.listen(0, "127.0.0.1")).actualPort();
        Agent agent = await(Agent.start(vertx, new Agent.Options("http://127.0.0.1:" + port, "join", tmp.resolve("agent"),
                DockerEngine.DEFAULT_SOCKET, "fake", List.of(), 1024, 1024)));
        try {
            Messages.Hello hello = Messages.read(next(fromAgent, "Hello"), Messages.Hello.class);
            assertEquals(0, hello.lastSeq());
            ServerWebSocket ws = session[0];
            ws.writeTextMessage(Messages.encode(new Messages.DesiredState(10, List.of())));
            assertEquals(10, Messages.read(next(fromAgent, "Ack"), Messages.Ack.class).seq());

            ws.writeTextMessage("]]] not json");
            ws.writeTextMessage("{\"type\":\"Surprise\",\"message\":{}}");
            // A stale snapshot that would start a task: ignored, nothing started, nothing acknowledged.
            TaskDefinition td = TaskDefinition.register(DeployJson.MAPPER.readValue(
                    "{\"family\":\"x\",\"containerDefinitions\":[{\"name\":\"x\",\"image\":\"127.0.0.1:1/nope:1\",\"memory\":32}]}",
                    RegisterTaskDefinitionRequest.class), 1, Instant.now());
            Messages.TaskSpec spec = new Messages.TaskSpec("stale-task", "RUNNING", 1, td, Map.of("x", "127.0.0.1:1/nope:1"),
                    "default");
            ws.writeTextMessage(Messages.encode(new Messages.DesiredState(5, List.of(spec))));
            ws.writeTextMessage(Messages.encode(new Messages.DesiredState(10, List.of())));
            assertEquals(10, Messages.read(next(fromAgent, "Ack"), Messages.Ack.class).seq(), "a resend is acknowledged again");
            ws.writeTextMessage(Messages.encode(new Messages.DesiredState(11, List.of())));
            assertEquals(11, Messages.read(next(fromAgent, "Ack"), Messages.Ack.class).seq());
            Thread.sleep(2000);
            for (Messages.Frame f : fromAgent) {
                assertTrue(!f.type().equals("TaskStateChange"), "the stale snapshot started something: " + f);
                if (f.type().equals("Ack")) {
                    assertTrue(Messages.read(f, Messages.Ack.class).seq() != 5, "the stale snapshot was acknowledged");
                }
            }
            assertNull(LocalState.load(tmp.resolve("agent/agent.json")).tasks.get("stale-task"));
            assertEquals(11, LocalState.load(tmp.resolve("agent/agent.json")).lastSeq);
        } finally {
            await(agent.stop());
        }
    }
}
