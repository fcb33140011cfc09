package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.db.Database;
import dev.berth.deploy.state.ControlPlaneSchema;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A revision registered while UpdateService resolves tags: the deployment still runs the images of its own revision. */
class PinRaceTest {
    @TempDir
    Path dir;

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    static JsonObject td(String image) {
        return new JsonObject().put("family", "web").put("containerDefinitions", new JsonArray()
                .add(new JsonObject().put("name", "app").put("image", image).put("memory", 64)));
    }

    @Test
    void theDeploymentRunsTheImageOfItsOwnRevision() throws Exception {
        Vertx vertx = Vertx.vertx();
        Database db = Database.open(vertx, dir.resolve("s.db").toString(), false, ControlPlaneSchema.MIGRATIONS);
        AtomicReference<ControlPlane> cp = new AtomicReference<>();
        AtomicBoolean race = new AtomicBoolean(false);
        try {
            ControlPlane plane = await(ControlPlane.start(vertx, db, java.time.Clock.systemUTC(), new Random(1), image -> {
                String digest = SimulatedCluster.digestOf(image.tag());
                if (race.compareAndSet(true, false)) {
                    // Someone registers web:3 while the lookup is in flight.
                    return cp.get().action("RegisterTaskDefinition").call(td("127.0.0.1:5000/team/api:v3").encode())
                            .map(x -> digest);
                }
                return Future.succeededFuture(digest);
            }));
            cp.set(plane);
            await(plane.action("RegisterTaskDefinition").call(td("127.0.0.1:5000/team/web:v1").encode()));
            await(plane.action("CreateService").call(new JsonObject().put("serviceName", "web").put("taskDefinition", "web:1")
                    .put("desiredCount", 0).encode()));
            await(plane.action("RegisterTaskDefinition").call(td("127.0.0.1:5000/team/web:v2").encode()));
            race.set(true);
            JsonObject s = new JsonObject(await(plane.action("UpdateService").call(new JsonObject().put("service", "web")
                    .put("taskDefinition", "web").encode())).toString()).getJsonObject("service");
            JsonObject primary = s.getJsonArray("deployments").getJsonObject(0);
            assertEquals("web:3", primary.getString("taskDefinition"));
            String image = primary.getJsonObject("images").getString("app");
            assertEquals(true, image.startsWith("127.0.0.1:5000/team/api:v3"), "web:3 deploys " + image);
        } finally {
            db.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

}
