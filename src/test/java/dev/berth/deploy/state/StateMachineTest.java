package dev.berth.deploy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.berth.db.Database;
import dev.berth.deploy.model.Cluster;
import dev.berth.deploy.model.FieldException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state machine: durable answers, group commit, and reloading after a failure. */
class StateMachineTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;
    private Vertx vertx;
    private Database db;
    private StateMachine machine;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        db = open();
        machine = await(StateMachine.start(vertx, db, CLOCK));
    }

    private Database open() throws Exception {
        return Database.open(vertx, dir.resolve("state.db").toString(), false, ControlPlaneSchema.MIGRATIONS);
    }

    @AfterEach
    void stop() throws Exception {
        db.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Cluster cluster(String name) throws Exception {
        return await(machine.execute((state, changes) -> state.cluster(name)));
    }

    @Test
    void theDefaultClusterExistsFromTheFirstStartAndAnswersComeAfterTheCommit() throws Exception {
        assertNotNull(cluster("default"));
        await(machine.execute((state, changes) -> {
            state.putCluster(changes, Cluster.create("prod", CLOCK.instant()));
            return null;
        }));
        // Answered means committed: a fresh load of the database has it.
        db.close();
        db = open();
        StateMachine again = await(StateMachine.start(vertx, db, CLOCK));
        assertNotNull(await(again.execute((state, changes) -> state.cluster("prod"))));
    }

    @Test
    void aBurstOfConcurrentCommandsIsAllAnsweredAndAllDurable() throws Exception {
        List<Future<Object>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String name = "c" + i;
            all.add(machine.execute((state, changes) -> {
                state.putCluster(changes, Cluster.create(name, CLOCK.instant()));
                return null;
            }));
        }
        await(Future.all(all));
        int live = await(machine.execute((state, changes) -> state.clusters().size()));
        assertEquals(201, live);
        db.close();
        db = open();
        StateMachine again = await(StateMachine.start(vertx, db, CLOCK));
        int loaded = await(again.execute((state, changes) -> state.clusters().size()));
        assertEquals(201, loaded);
    }

    @Test
    void aRefusedCommandFailsAloneAndAFailingCommandIsUndoneByAReload() throws Exception {
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> await(machine.execute((state, changes) -> {
                    throw new FieldException("clusterName", "no");
                })));
        assertInstanceOf(FieldException.class, refused.getCause());

        ExecutionException broken = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> await(machine.execute((state, changes) -> {
                    state.putCluster(changes, Cluster.create("half", CLOCK.instant()));
                    throw new IllegalStateException("bug half-way");
                })));
        assertInstanceOf(IllegalStateException.class, broken.getCause());
        assertNull(cluster("half"), "the half-done change was thrown away with the reload");
        assertNotNull(cluster("default"));

        // The machine keeps working.
        await(machine.execute((state, changes) -> {
            state.putCluster(changes, Cluster.create("after", CLOCK.instant()));
            return null;
        }));
        assertNotNull(cluster("after"));
    }
}
