package dev.berth.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.db.Database;
import dev.berth.deploy.state.ControlPlaneSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Scale benchmark of the controller (run by {@code scripts/bench-controlplane}, not by the test
 * suite): registers N simulated nodes, then places M tasks as services of 100 tasks each (half
 * spread by instance, half binpacked by memory), every action through the same JSON path as the
 * API, on a durable database. Prints placements per second, the heap after a full GC, the database
 * size and the time a restarted controller takes to load it all.
 */
public final class ControlPlaneScaleBenchmark {
    private ControlPlaneScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int tasks = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int perService = 100;
        Path dir = Files.createTempDirectory("berth-cp-bench");
        Vertx vertx = Vertx.vertx();
        Database db = Database.open(vertx, dir.resolve("state.db").toString(), true, ControlPlaneSchema.MIGRATIONS);
        ControlPlane cp = await(ControlPlane.start(vertx, db, Clock.systemUTC(), new Random(1), ImageResolver.NONE));

        long t0 = System.nanoTime();
        List<Future<ObjectNode>> registrations = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            registrations.add(cp.action("RegisterContainerInstance").call(new JsonObject().put("hostname", "node-" + i)
                    .put("totalResources", new JsonObject().put("cpu", 4096).put("memory", 16384))
                    .put("attributes", new JsonArray().add(new JsonObject().put("name", "zone").put("value", "z" + (i % 3))))
                    .encode()));
        }
        await(Future.all(registrations));
        double registerSeconds = (System.nanoTime() - t0) / 1e9;
        await(cp.action("RegisterTaskDefinition").call(new JsonObject().put("family", "app").put("containerDefinitions",
                new JsonArray().add(new JsonObject().put("name", "app").put("image", "team/app:1").put("memory", 128)
                        .put("cpu", 64))).encode()));

        long t1 = System.nanoTime();
        int services = (tasks + perService - 1) / perService;
        for (int s = 0; s < services; s++) {
            JsonObject strategy = s % 2 == 0 ? new JsonObject().put("type", "spread").put("field", "instanceId")
                    : new JsonObject().put("type", "binpack").put("field", "memory");
            await(cp.action("CreateService").call(new JsonObject().put("serviceName", "svc-" + s).put("taskDefinition", "app")
                    .put("desiredCount", Math.min(perService, tasks - s * perService))
                    .put("placementStrategy", new JsonArray().add(strategy)).encode()));
        }
        double placeSeconds = (System.nanoTime() - t1) / 1e9;
        JsonObject cluster = new JsonObject(await(cp.action("DescribeClusters").call("{}")).toString())
                .getJsonArray("clusters").getJsonObject(0);
        int placed = cluster.getInteger("pendingTasksCount") + cluster.getInteger("runningTasksCount");
        long unplaced = 0;
        long t2 = System.nanoTime();
        await(cp.tick());
        double tickMillis = (System.nanoTime() - t2) / 1e6;

        System.gc();
        Thread.sleep(200);
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        db.close();
        long dbBytes = Files.size(dir.resolve("state.db")) + sizeOr0(dir.resolve("state.db-wal"));

        long t3 = System.nanoTime();
        Database again = Database.open(vertx, dir.resolve("state.db").toString(), true, ControlPlaneSchema.MIGRATIONS);
        ControlPlane reloaded = await(ControlPlane.start(vertx, again, Clock.systemUTC(), new Random(1), ImageResolver.NONE));
        double loadSeconds = (System.nanoTime() - t3) / 1e9;
        int reloadedTasks = new JsonObject(await(reloaded.action("DescribeClusters").call("{}")).toString())
                .getJsonArray("clusters").getJsonObject(0).getInteger("pendingTasksCount");
        again.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        System.out.printf("nodes registered            %d in %.2f s (%.0f/s)%n", nodes, registerSeconds, nodes / registerSeconds);
        System.out.printf("tasks placed                %d of %d in %d services, %.2f s: %.0f placements/s%n",
                placed, tasks, services, placeSeconds, placed / placeSeconds);
        System.out.printf("periodic step (all services) %.1f ms%n", tickMillis);
        System.out.printf("heap after full GC          %.1f MiB%n", heap / 1048576.0);
        System.out.printf("state database              %.1f MiB%n", dbBytes / 1048576.0);
        System.out.printf("restart: state loaded in    %.2f s (%d tasks back)%n", loadSeconds, reloadedTasks);
        if (placed != tasks || reloadedTasks != tasks || unplaced != 0) {
            System.out.println("FAILED: not every task was placed and reloaded");
            System.exit(1);
        }
    }

    private static long sizeOr0(Path p) throws java.io.IOException {
        return Files.exists(p) ? Files.size(p) : 0;
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
    }
}
