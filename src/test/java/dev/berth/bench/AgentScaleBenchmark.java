package dev.berth.bench;

import dev.berth.agent.protocol.Messages;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code scripts/bench-agents}: N simulated agents (in-process WebSocket clients speaking the real
 * protocol) register with one controller ({@code berth serve} in its own JVM), keep a session and
 * heartbeat every 10 s for S seconds. Prints the controller's CPU over that window, its heap after
 * a full GC and its RSS, and checks that every node is still connected at the end.
 */
public final class AgentScaleBenchmark {
    private AgentScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        Path dir = Files.createTempDirectory("berth-agents-bench");
        int port = BenchSupport.freePort();
        Process controller = BenchSupport.serve(port, dir.resolve("storage"), dir.resolve("berth.log"),
                Map.of("BERTH_AGENT_EMBEDDED", "false"));
        long pid = controller.pid();
        Vertx vertx = Vertx.vertx();
        try {
            HttpClientAgent http = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(16));
            String base = "http://127.0.0.1:" + port;
            String join = post(http, base + "/api/CreateJoinToken", new JsonObject().put("uses", 10_000)).toCompletionStage()
                    .toCompletableFuture().get(30, TimeUnit.SECONDS).getString("joinToken");

            long t0 = System.nanoTime();
            List<String> tokens = new ArrayList<>();
            for (int i = 0; i < agents; i += 50) {
                List<Future<JsonObject>> batch = new ArrayList<>();
                for (int j = i; j < Math.min(agents, i + 50); j++) {
                    batch.add(post(http, base + "/api/agents/register", new JsonObject().put("joinToken", join)
                            .put("hostname", "sim-" + j).put("totalResources", new JsonObject().put("cpu", 4096).put("memory", 8192))));
                }
                for (Future<JsonObject> f : batch) {
                    tokens.add(f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS).getString("agentToken"));
                }
            }
            double registerSeconds = (System.nanoTime() - t0) / 1e9;

            WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(agents + 10));
            AtomicLong framesIn = new AtomicLong();
            AtomicLong snapshots = new AtomicLong();
            AtomicLong heartbeatsOut = new AtomicLong();
            long t1 = System.nanoTime();
            List<Future<?>> connected = new ArrayList<>();
            for (String token : tokens) {
                connected.add(ws.connect(new WebSocketConnectOptions().setAbsoluteURI("ws://127.0.0.1:" + port
                        + "/api/agents/connect").addHeader("Authorization", "Bearer " + token)).onSuccess(socket -> {
                    socket.textMessageHandler(text -> {
                        framesIn.incrementAndGet();
                        try {
                            Messages.Frame f = Messages.decode(text);
                            if (f.type().equals("DesiredState")) {
                                snapshots.incrementAndGet();
                                socket.writeTextMessage(Messages.encode(new Messages.Ack(
                                        Messages.read(f, Messages.DesiredState.class).seq())));
                            }
                        } catch (java.io.IOException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    socket.writeTextMessage(Messages.encode(new Messages.Hello(Messages.PROTOCOL_VERSION, "bench", 0)));
                    // Heartbeats every 10 s, spread over the period like independent agents.
                    vertx.setTimer(1 + ThreadLocalRandom.current().nextLong(10_000), first -> {
                        socket.writeTextMessage(Messages.encode(new Messages.Heartbeat(Instant.now())));
                        heartbeatsOut.incrementAndGet();
                        vertx.setPeriodic(10_000, id -> {
                            if (!socket.isClosed()) {
                                socket.writeTextMessage(Messages.encode(new Messages.Heartbeat(Instant.now())));
                                heartbeatsOut.incrementAndGet();
                            }
                        });
                    });
                }));
            }
            Future.join(connected).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
            double connectSeconds = (System.nanoTime() - t1) / 1e9;
            Thread.sleep(5000);

            double cpuBefore = BenchSupport.cpuSeconds(pid);
            long windowStart = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            double cpu = BenchSupport.cpuSeconds(pid) - cpuBefore;
            double window = (System.nanoTime() - windowStart) / 1e9;

            int connectedNodes = 0;
            String token = null;
            List<String> ids = new ArrayList<>();
            do {
                JsonObject page = post(http, base + "/api/ListContainerInstances", new JsonObject().put("nextToken", token))
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                page.getJsonArray("containerInstanceArns").forEach(o -> ids.add(o.toString()));
                token = page.getString("nextToken");
            } while (token != null);
            for (int i = 0; i < ids.size(); i += 100) {
                JsonArray chunk = new JsonArray(ids.subList(i, Math.min(ids.size(), i + 100)));
                for (Object n : post(http, base + "/api/DescribeContainerInstances", new JsonObject().put("containerInstances", chunk))
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).getJsonArray("containerInstances")) {
                    if (((JsonObject) n).getBoolean("agentConnected")) {
                        connectedNodes++;
                    }
                }
            }
            double heap = BenchSupport.heapAfterGcMib(pid);
            long rss = BenchSupport.rssKib(pid);

            System.out.printf("agents registered            %d in %.2f s%n", agents, registerSeconds);
            System.out.printf("sessions opened              %d in %.2f s (%d snapshots acknowledged)%n", connected.size(),
                    connectSeconds, snapshots.get());
            System.out.printf("window                       %.0f s, %d heartbeats sent by the agents, %d frames received%n",
                    window, heartbeatsOut.get(), framesIn.get());
            System.out.printf("controller CPU               %.2f s in %.0f s = %.1f%% of one core%n", cpu, window,
                    100 * cpu / window);
            System.out.printf("controller heap after GC     %.1f MiB%n", heap);
            System.out.printf("controller RSS               %.1f MiB%n", rss / 1024.0);
            System.out.printf("nodes connected at the end   %d of %d%n", connectedNodes, agents);
            if (connectedNodes != agents) {
                System.out.println("FAILED: not every node stayed connected");
                System.exit(1);
            }
        } finally {
            controller.destroy();
            controller.waitFor(20, TimeUnit.SECONDS);
            vertx.close();
        }
        System.exit(0);
    }

    private static Future<JsonObject> post(HttpClientAgent http, String url, JsonObject body) {
        return http.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
                        .putHeader("Content-Type", "application/json"))
                .compose(req -> req.send(body.toBuffer()))
                .compose(resp -> resp.body().map(b -> {
                    if (resp.statusCode() != 200) {
                        throw new IllegalStateException(url + " -> " + resp.statusCode() + " " + b);
                    }
                    return new JsonObject(b);
                }));
    }
}
