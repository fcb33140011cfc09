package dev.berth.notify;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A step that runs on one Vert.x context, again after a delay or as soon as it is woken, and never
 * twice at once: the cycle that endpoint dispatchers and feed subscriptions share. A step ends by
 * calling {@link #idle}; a step that throws is logged and retried after a pause instead of leaving
 * the loop stuck.
 */
final class ContextLoop {
    private static final Logger LOG = LoggerFactory.getLogger(ContextLoop.class);
    private static final long AFTER_ERROR_MS = 5_000;

    private final Vertx vertx;
    private final Context context;
    private final String name;
    private final Runnable step;
    private boolean running;
    private boolean wakeAgain;
    private boolean holdWakes;
    private long timer = -1;
    private volatile boolean stopped;

    ContextLoop(Vertx vertx, String name, Runnable step) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.name = name;
        this.step = step;
    }

    Context context() {
        return context;
    }

    void start() {
        context.runOnContext(v -> run());
    }

    /** New work may be there: run now (or right after the current step) instead of at the timer. */
    void wake() {
        context.runOnContext(v -> {
            if (stopped || holdWakes) {
                return;
            }
            if (running) {
                wakeAgain = true;
            } else {
                cancelTimer();
                run();
            }
        });
    }

    /** Ends the current step; the next runs after {@code ms}, or earlier when woken. */
    void idle(long ms) {
        idle(ms, false);
    }

    /**
     * Ends the current step; the next runs after {@code ms}. With {@code ignoreWakes} nothing shortens
     * the wait (a retry waiting out its backoff).
     */
    void idle(long ms, boolean ignoreWakes) {
        running = false;
        holdWakes = ignoreWakes;
        if (stopped) {
            return;
        }
        if (wakeAgain && !ignoreWakes) {
            run();
            return;
        }
        timer = vertx.setTimer(Math.max(1, ms), id -> {
            timer = -1;
            run();
        });
    }

    boolean stopped() {
        return stopped;
    }

    void stop() {
        stopped = true;
        context.runOnContext(v -> cancelTimer());
    }

    private void cancelTimer() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void run() {
        if (stopped) {
            return;
        }
        running = true;
        wakeAgain = false;
        holdWakes = false;
        try {
            step.run();
        } catch (RuntimeException e) {
            LOG.atError().setCause(e).addKeyValue("loop", name).log("step failed; retrying later");
            idle(AFTER_ERROR_MS);
        }
    }
}
