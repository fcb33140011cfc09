package dev.berth.deploy.state;

import dev.berth.db.Database;
import dev.berth.deploy.model.ControlPlaneException;
import dev.berth.deploy.model.FieldException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs control-plane commands one at a time on one Vert.x context, against the in-memory
 * {@link ControlPlaneState}, and answers each only once its changes are committed to the database.
 *
 * <p>Group commit: commands that run while a commit is in flight are gathered, and their changes
 * written together in the next transaction, so a burst of commands costs one disk flush per group,
 * not per command. A read-only command joins the group too: it may have seen changes of the group
 * in flight, so it answers only after they are durable.
 *
 * <p>Failures: a command that refuses its input ({@link FieldException},
 * {@link ControlPlaneException}) must do so before it changes anything, and then fails alone. Any
 * other failure of a command, and any failed commit, fails the commands concerned and reloads the
 * whole state from the database, the one source of truth.
 */
public final class StateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(StateMachine.class);

    /** A command: reads and changes {@code state}, recording every write in {@code changes}. */
    @FunctionalInterface
    public interface Command<T> {
        T apply(ControlPlaneState state, Changes changes) throws Exception;
    }

    private record Done(Runnable succeed, java.util.function.Consumer<Throwable> fail) {
    }

    private final Database database;
    private final Clock clock;
    private final Context context;
    /** Volatile for {@link #followsRepository}, the one read allowed off the machine's context. */
    private volatile ControlPlaneState state;
    private List<Done> group = new ArrayList<>();
    private Changes groupChanges = new Changes();
    private boolean committing;
    private boolean reloading;
    private final Deque<Runnable> waiting = new ArrayDeque<>();
    private final List<java.util.function.Consumer<java.util.Set<String>>> committedListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    private StateMachine(Database database, Clock clock, Context context, ControlPlaneState state) {
        this.database = database;
        this.clock = clock;
        this.context = context;
        this.state = state;
    }

    /**
     * Loads the state (creating the default cluster on first start) and returns the machine. Its
     * context is a worker context of its own (a worker verticle's: one command at a time, in order):
     * commands can take milliseconds at scale (placing a hundred tasks among thousands), which must
     * not hold up an event loop that serves registry requests.
     */
    public static Future<StateMachine> start(Vertx vertx, Database database, Clock clock) {
        Promise<StateMachine> started = Promise.promise();
        vertx.deployVerticle(() -> new io.vertx.core.VerticleBase() {
            @Override
            public Future<?> start() {
                return database.transaction(c -> ControlPlaneState.load(c, clock.instant()))
                        .onSuccess(state -> started.complete(new StateMachine(database, clock, context, state)));
            }
        }, new io.vertx.core.DeploymentOptions().setThreadingModel(io.vertx.core.ThreadingModel.WORKER))
                .onFailure(started::tryFail);
        return started.future();
    }

    /**
     * Calls {@code listener} on the machine's context after each commit with the nodes whose tasks
     * changed in it (the agent gateway sends those nodes a new snapshot).
     */
    public void onCommitted(java.util.function.Consumer<java.util.Set<String>> listener) {
        committedListeners.add(listener);
    }

    private final List<Runnable> reloadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Calls {@code listener} on the machine's context after the state was reloaded from the database. */
    public void onReloaded(Runnable listener) {
        reloadListeners.add(listener);
    }

    /** Whether an ACTIVE service follows pushes to {@code repository}: safe from any thread, never blocks. */
    public boolean followsRepository(String repository) {
        return state.follows(repository);
    }

    public Clock clock() {
        return clock;
    }

    public Context context() {
        return context;
    }

    /**
     * Runs {@code command} on the machine's context; the future completes (on the caller's context)
     * with its result once its changes are durable, or with its failure.
     */
    public <T> Future<T> execute(Command<T> command) {
        Context caller = Vertx.currentContext();
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> {
            if (reloading) {
                waiting.add(() -> run(command, promise, caller));
            } else {
                run(command, promise, caller);
            }
        });
        return promise.future();
    }

    private <T> void run(Command<T> command, Promise<T> promise, Context caller) {
        Changes changes = new Changes();
        T result;
        try {
            result = command.apply(state, changes);
        } catch (FieldException | ControlPlaneException e) {
            if (!changes.isEmpty()) {
                LOG.atError().addKeyValue("writes", changes.size())
                        .log("a command refused its input after changing state; reloading");
                reload();
            }
            answer(caller, () -> promise.fail(e));
            return;
        } catch (Throwable t) {
            LOG.atError().setCause(t).log("control-plane command failed; reloading the state");
            answer(caller, () -> promise.fail(t));
            reload();
            return;
        }
        groupChanges.addAll(changes);
        group.add(new Done(() -> answer(caller, () -> promise.complete(result)),
                e -> answer(caller, () -> promise.fail(e))));
        if (!committing) {
            flush();
        }
    }

    private void flush() {
        if (group.isEmpty()) {
            return;
        }
        List<Done> batch = group;
        Changes writes = groupChanges;
        group = new ArrayList<>();
        groupChanges = new Changes();
        if (writes.isEmpty()) {
            batch.forEach(d -> d.succeed().run());
            return;
        }
        committing = true;
        long now = clock.millis();
        database.transaction(c -> {
            writes.write(c, now);
            return null;
        }).onComplete(ar -> {
            committing = false;
            if (ar.succeeded()) {
                batch.forEach(d -> d.succeed().run());
                if (!writes.touchedNodes().isEmpty()) {
                    java.util.Set<String> touched = java.util.Set.copyOf(writes.touchedNodes());
                    for (var l : committedListeners) {
                        try {
                            l.accept(touched);
                        } catch (RuntimeException e) {
                            LOG.atWarn().setCause(e).log("commit listener failed");
                        }
                    }
                }
                flush();
            } else {
                LOG.atError().setCause(ar.cause()).log("control-plane commit failed; reloading the state");
                batch.forEach(d -> d.fail().accept(ar.cause()));
                // Commands gathered since ran against the state the failed commit was part of.
                List<Done> after = group;
                group = new ArrayList<>();
                groupChanges = new Changes();
                after.forEach(d -> d.fail().accept(ar.cause()));
                reload();
            }
        });
    }

    /** Throws away the state in memory and loads it again from the database (after a failure; tests). */
    public Future<Void> reloadNow() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            reloadListeners.add(new Runnable() {
                @Override
                public void run() {
                    reloadListeners.remove(this);
                    done.tryComplete();
                }
            });
            reload();
        });
        return done.future();
    }

    private void reload() {
        if (reloading) {
            return;
        }
        reloading = true;
        // Whatever was gathered for the next commit came from the state being thrown away.
        List<Done> dropped = group;
        group = new ArrayList<>();
        groupChanges = new Changes();
        IllegalStateException cause = new IllegalStateException("the control-plane state was reloaded; retry");
        dropped.forEach(d -> d.fail().accept(cause));
        database.transaction(c -> ControlPlaneState.load(c, clock.instant())).onComplete(ar -> {
            if (ar.succeeded()) {
                state = ar.result();
                reloading = false;
                reloadListeners.forEach(Runnable::run);
                while (!waiting.isEmpty() && !reloading) {
                    waiting.poll().run();
                }
            } else {
                LOG.atError().setCause(ar.cause()).log("cannot reload the control-plane state; retrying in 1 s");
                // Commands keep waiting meanwhile: the state in memory is not to be trusted.
                context.owner().setTimer(1000, id -> {
                    reloading = false;
                    reload();
                });
            }
        });
    }

    private static void answer(Context caller, Runnable r) {
        if (caller == null) {
            r.run();
        } else {
            caller.runOnContext(v -> r.run());
        }
    }
}
