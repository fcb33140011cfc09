package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.agent.protocol.Messages;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.RegisterTaskDefinitionRequest;
import dev.berth.deploy.model.TaskDefinition;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent against a fake Engine (HTTP on a unix socket in a temp dir) and a fake controller: failure paths real Docker cannot stage. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentFakeEngineTest {
    @TempDir
    Path tmp;
    private Vertx vertx;

    @BeforeEach
    void open() {
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    }

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------- fakes

    /** A fake Engine: containers by id ("running"), follow log streams that never end. */
    static final class FakeEngine {
        final Map<String, JsonObject> containers = new ConcurrentHashMap<>(); // id -> {task, name, status}
        final List<String> calls = new CopyOnWriteArrayList<>();
        final AtomicInteger openLogStreams = new AtomicInteger();
        /** Pulls asked for: the image, then its X-Registry-Auth header when there was one. */
        final List<String> pulls = new CopyOnWriteArrayList<>();
        /** Whether every image is reported missing (so that each task start pulls). */
        volatile boolean imagesMissing;
        final String node;

        FakeEngine(String node) {
            this.node = node;
        }

        /** Serves this engine on a Unix socket at {@code socket} (what agents take as their Docker socket). */
        String serve(Vertx vertx, Path socket) throws Exception {
            HttpServer server = vertx.createHttpServer().requestHandler(this::handle);
            server.listen(SocketAddress.domainSocketAddress(socket.toString())).toCompletionStage()
                    .toCompletableFuture().get(60, TimeUnit.SECONDS);
            return socket.toString();
        }

        void handle(HttpServerRequest req) {
            String p = req.path().replaceFirst("^/v1\\.41", "");
            calls.add(req.method() + " " + p);
            var resp = req.response();
            if (p.equals("/_ping")) {
                resp.end("OK");
            } else if (p.equals("/info")) {
                resp.end(new JsonObject().put("NCPU", 2).put("MemTotal", 4L << 30).put("OSType", "linux").encode());
            } else if (p.equals("/containers/json")) {
                JsonArray out = new JsonArray();
                containers.forEach((id, c) -> out.add(new JsonObject().put("Id", id).put("Labels", new JsonObject()
                        .put("dev.berth.node", node).put("dev.berth.task", c.getString("task"))
                        .put("dev.berth.container", c.getString("name")))));
                resp.end(out.encode());
            } else if (p.equals("/images/create")) {
                String auth = req.getHeader("X-Registry-Auth");
                pulls.add(req.getParam("fromImage") + (auth == null ? "" : " " + auth));
                resp.end("{}");
            } else if (p.startsWith("/images/")) {
                if (imagesMissing) {
                    resp.setStatusCode(404).end("{\"message\":\"no such image\"}");
                } else {
                    resp.end("{}");
                }
            } else if (p.equals("/containers/create")) {
                String id = "c" + containers.size() + "x" + System.nanoTime();
                req.body().onSuccess(b -> {
                    JsonObject body = b.toJsonObject();
                    containers.put(id, new JsonObject().put("task", body.getJsonObject("Labels").getString("dev.berth.task"))
                            .put("name", body.getJsonObject("Labels").getString("dev.berth.container")).put("status", "created"));
                    resp.setStatusCode(201).end(new JsonObject().put("Id", id).encode());
                });
            } else if (p.matches("/containers/[^/]+/(start|stop)")) {
                String[] s = p.split("/");
                JsonObject c = containers.get(s[2]);
                if (c == null) {
                    resp.setStatusCode(404).end("{\"message\":\"no such container\"}");
                } else {
                    c.put("status", s[3].equals("start") ? "running" : "exited");
                    resp.setStatusCode(204).end();
                }
            } else if (p.matches("/containers/[^/]+/json")) {
                JsonObject c = containers.get(p.split("/")[2]);
                if (c == null) {
                    resp.setStatusCode(404).end("{\"message\":\"no such container\"}");
                } else {
                    resp.end(new JsonObject().put("State", new JsonObject().put("Status", c.getString("status"))
                            .put("ExitCode", 0)).put("NetworkSettings", new JsonObject()).encode());
                }
            } else if (p.matches("/containers/[^/]+/logs")) {
                if ("true".equals(req.getParam("follow"))) {
                    openLogStreams.incrementAndGet();
                    req.connection().closeHandler(v -> openLogStreams.decrementAndGet());
                    resp.setChunked(true).putHeader("Content-Type", "application/vnd.docker.raw-stream");
                    resp.write(io.vertx.core.buffer.Buffer.buffer(new byte[] {1, 0, 0, 0, 0, 0, 0, 3}).appendString("hi\n"));
                } else {
                    resp.end();
                }
            } else if (req.method().name().equals("DELETE")) {
                containers.remove(p.replaceFirst("^/containers/", ""));
                resp.setStatusCode(204).end();
            } else {
                resp.setStatusCode(404).end("{\"message\":\"fake: " + p + "\"}");
            }
        }
    }

    /** A fake controller: keeps the newest agent session, queues what the agent sends. */
    static final class FakeController {
        final BlockingQueue<Messages.Frame> inbox = new LinkedBlockingQueue<>();
        volatile ServerWebSocket ws;

        void handle(HttpServerRequest req) {
            req.toWebSocket().onSuccess(s -> {
                ws = s;
                s.textMessageHandler(t -> {
                    try {
                        inbox.add(Messages.decode(t));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
            });
        }

        void send(Record m) {
            ws.writeTextMessage(Messages.encode(m));
        }

        Messages.Frame next(String type, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                Messages.Frame f = inbox.poll(100, TimeUnit.MILLISECONDS);
                if (f != null && f.type().equals(type)) {
                    return f;
                }
            }
            return null;
        }
    }

    FakeEngine engine;
    FakeController controller;
    String controllerUrl;
    String socket;

    private void startFakes(String node) throws Exception {
        engine = new FakeEngine(node);
        controller = new FakeController();
        socket = engine.serve(vertx, tmp.resolve("engine.sock"));
        HttpServer c = vertx.createHttpServer().requestHandler(controller::handle);
        controllerUrl = "http://127.0.0.1:" + await(c.listen(0, "127.0.0.1")).actualPort();
    }

    static TaskDefinition definition(String... containers) throws Exception {
        JsonArray defs = new JsonArray();
        for (String n : containers) {
            defs.add(new JsonObject().put("name", n).put("image", "team/x@sha256:" + "a".repeat(64)).put("memory", 32));
        }
        return TaskDefinition.register(DeployJson.MAPPER.readValue(new JsonObject().put("family", "x")
                .put("containerDefinitions", defs).encode(), RegisterTaskDefinitionRequest.class), 1, Instant.now());
    }

    static Messages.TaskSpec spec(String task, String desired, TaskDefinition td) {
        return new Messages.TaskSpec(task, desired, 1, td, Map.of(), "default");
    }

    /** A registered node's state file, so that the agent does not register. */
    private LocalState registered() {
        LocalState s = new LocalState();
        s.controller = controllerUrl;
        s.nodeId = "node1";
        s.cluster = "default";
        s.agentToken = "node1.secret";
        return s;
    }

    private Agent startAgent() throws Exception {
        return await(Agent.start(vertx, new Agent.Options(controllerUrl, null, tmp.resolve("agent"), socket, "h",
                List.of(), 1024, 1024)));
    }

    private static Messages.TaskStateChange change(Messages.Frame f) throws Exception {
        return Messages.read(f, Messages.TaskStateChange.class);
    }

    /**
     * An agent restarted with task t1 of {@code td} RUNNING in container c1 (which the Engine has),
     * connected, and in step with the controller's first snapshot.
     */
    private Agent startWithOneRunningTask(TaskDefinition td) throws Exception {
        startFakes("node1");
        LocalState s = registered();
        LocalState.LocalTask t = new LocalState.LocalTask();
        t.spec = spec("t1", "RUNNING", td);
        t.phase = LocalState.LocalTask.RUNNING;
        t.containers.put("app", "c1");
        t.reportedHealth = "UNKNOWN";
        s.tasks.put("t1", t);
        s.lastSeq = 1;
        s.save(tmp.resolve("agent/agent.json"));
        engine.containers.put("c1", new JsonObject().put("task", "t1").put("name", "app").put("status", "running"));
        Agent agent = startAgent();
        assertTrue(controller.next("Hello", 10) != null);
        controller.send(new Messages.DesiredState(1, List.of(spec("t1", "RUNNING", td))));
        controller.next("Ack", 5);
        return agent;
    }

    // ---------------------------------------------------------------- tests

    /** Agent.apply sets lastSeq in memory before saving; a failed save, then the controller's resend, is acked unpersisted. */
    @Test
    void aSnapshotThatCannotBePersistedIsNeverAcknowledged() throws Exception {
        startFakes("node1");
        registered().save(tmp.resolve("agent/agent.json"));
        Agent agent = startAgent();
        try {
            assertTrue(controller.next("Hello", 10) != null);
            controller.send(new Messages.DesiredState(1, List.of()));
            assertEquals(1, Messages.read(controller.next("Ack", 5), Messages.Ack.class).seq());
            Files.createDirectories(tmp.resolve("agent/agent.json.tmp")); // every save now fails
            controller.send(new Messages.DesiredState(2, List.of()));
            assertEquals(null, controller.next("Ack", 2), "not persisted, not acked: correct");
            controller.send(new Messages.DesiredState(2, List.of())); // the gateway's resend
            Messages.Frame ack = controller.next("Ack", 3);
            long onDisk = LocalState.load(tmp.resolve("agent/agent.json")).lastSeq;
            // Before the fix, Ack{2} arrived while the file still said lastSeq 1.
            assertTrue(ack == null || onDisk >= Messages.read(ack, Messages.Ack.class).seq(),
                    "acked seq " + (ack == null ? "-" : Messages.read(ack, Messages.Ack.class).seq()) + " but persisted " + onDisk);
        } finally {
            await(agent.stop());
        }
    }

    /** A restart while a task was NEW adopts a partial set of containers as RUNNING and never creates the rest. */
    @Test
    void aRestartDuringAStartFinishesTheStart() throws Exception {
        startFakes("node1");
        TaskDefinition td = definition("app", "side");
        LocalState s = registered();
        LocalState.LocalTask t = new LocalState.LocalTask();
        t.spec = spec("t2", "RUNNING", td);
        s.tasks.put("t2", t); // phase NEW: the agent died between creating "app" and creating "side"
        s.lastSeq = 1;
        s.save(tmp.resolve("agent/agent.json"));
        engine.containers.put("capp", new JsonObject().put("task", "t2").put("name", "app").put("status", "created"));
        Agent agent = startAgent();
        try {
            assertTrue(controller.next("Hello", 10) != null);
            controller.send(new Messages.DesiredState(2, List.of(spec("t2", "RUNNING", td))));
            Messages.Frame f = controller.next("TaskStateChange", 10);
            // Before the fix, "side" was never created; "app" (never started) was taken for an exited essential container,
            // and the task was reported STOPPED ("Essential container app exited with code 0") instead of finishing its start.
            assertTrue(engine.calls.stream().anyMatch(c -> c.equals("POST /containers/create")),
                    "never created the missing container; calls=" + engine.calls + " report=" + (f == null ? null : change(f)));
            assertEquals("RUNNING", change(f).status(), String.valueOf(change(f)));
        } finally {
            await(agent.stop());
        }
    }

    /** Follow log streams are not cancelled when the session ends: each reconnect leaks Engine connections. */
    @Test
    void followedLogStreamsEndWithTheSession() throws Exception {
        TaskDefinition td = definition("app");
        Agent agent = startWithOneRunningTask(td);
        try {
            controller.send(new Messages.LogsRequest("r1", "t1", "app", true, -1));
            assertTrue(controller.next("LogsData", 5) != null);
            assertEquals(1, engine.openLogStreams.get());
            controller.ws.close(); // the session ends (controller restart, network blip, replaced session)
            assertTrue(controller.next("Hello", 10) != null, "reconnected");
            Thread.sleep(2000);
            // Before the fix, the follow stream (one of the Engine client's 8 pooled connections) stayed open.
            assertEquals(0, engine.openLogStreams.get(), "follow stream of the ended session still open");
        } finally {
            await(agent.stop());
        }
    }

    /** Eight follow readers take every pooled Engine connection: the agent can no longer stop (or watch) anything. */
    @Test
    void followedLogsNeverHoldUpStopsAndStarts() throws Exception {
        TaskDefinition td = definition("app");
        Agent agent = startWithOneRunningTask(td);
        try {
            for (int i = 0; i < 8; i++) {
                controller.send(new Messages.LogsRequest("r" + i, "t1", "app", true, -1));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (engine.openLogStreams.get() < 8 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(8, engine.openLogStreams.get());
            controller.send(new Messages.DesiredState(2, List.of(spec("t1", "STOPPED", td))));
            Messages.Frame stopped = controller.next("TaskStateChange", 10);
            // Before the fix, no POST /containers/c1/stop reached the Engine (it waited up to 120 s for a pooled connection).
            assertTrue(stopped != null && "STOPPED".equals(change(stopped).status()),
                    "task not stopped within 10 s; stop calls: " + engine.calls.stream().filter(c -> c.endsWith("/stop")).toList());
        } finally {
            await(agent.stop());
        }
    }
}
