package dev.berth.deploy.scheduler;

import dev.berth.deploy.model.DeploymentConfiguration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One step of a service's reconciliation, as a pure function: given the service's live tasks,
 * which tasks of the PRIMARY deployment to start and which tasks to stop, so that
 *
 * <ul>
 *   <li>tasks PENDING or RUNNING never exceed {@code maximumPercent} of the desired count (as in ECS:
 *       a task asked to stop no longer counts, though it holds its resources until STOPPED): new
 *       tasks start only into that room;</li>
 *   <li>healthy tasks never drop below {@code minimumHealthyPercent}: a healthy task is stopped only
 *       while the healthy count stays at or above the floor (k8s' rolling-update arithmetic);</li>
 *   <li>outgoing tasks (older deployments, tasks on DRAINING nodes) go, the ones that are not
 *       healthy first, as replacements become healthy;</li>
 *   <li>a RUNNING task whose health check says UNHEALTHY after the grace period is replaced, and
 *       counted as a failure of its deployment.</li>
 * </ul>
 *
 * The caller applies the plan and calls again when anything changes; each call only looks at the
 * present, so a restarted controller simply continues.
 */
public final class RolloutEngine {
    private RolloutEngine() {
    }

    /**
     * A live task of the service. {@code healthy}: RUNNING and, with a health check, HEALTHY.
     * {@code unhealthyPastGrace}: RUNNING, health check says UNHEALTHY, grace period over.
     */
    public record TaskState(String id, String deploymentId, boolean desiredRunning, boolean placed, boolean running,
                            boolean healthy, boolean unhealthyPastGrace, boolean onDrainingNode, Instant createdAt) {
    }

    /** {@code primaryHalted}: the PRIMARY deployment FAILED without rollback; it gets no new tasks. */
    public record Input(int desiredCount, DeploymentConfiguration config, String primaryId, boolean primaryHalted,
                        List<TaskState> tasks) {
    }

    /** {@code failure}: counts against the task's deployment (circuit breaker). */
    public record Stop(String taskId, String reason, boolean failure) {
    }

    /**
     * {@code start}: new PRIMARY tasks to create. {@code steady}: the PRIMARY deployment has its
     * desired count of healthy tasks and nothing else is alive.
     */
    public record Plan(int start, List<Stop> stops, boolean steady) {
    }

    public static final String UNHEALTHY = "Task failed container health checks";
    public static final String REPLACED = "Replaced by a newer deployment";
    public static final String DRAINED = "Node is DRAINING: task moved";
    public static final String SCALED_IN = "Service scaled in";

    public static Plan plan(Input in) {
        int desired = in.desiredCount();
        int maxTasks = in.config().maximumTasks(desired);
        int minHealthy = in.config().minimumHealthy(desired);
        List<Stop> stops = new ArrayList<>();
        Set<String> stopping = new HashSet<>();

        // A. Unhealthy after the grace period: replace (it is not serving anyway).
        for (TaskState t : in.tasks()) {
            if (t.desiredRunning() && t.unhealthyPastGrace()) {
                stops.add(new Stop(t.id(), UNHEALTHY, true));
                stopping.add(t.id());
            }
        }

        int alive = 0;
        for (TaskState t : in.tasks()) {
            if (t.desiredRunning() && !stopping.contains(t.id())) {
                alive++;
            }
        }
        List<TaskState> incoming = new ArrayList<>();
        List<TaskState> outgoing = new ArrayList<>();
        for (TaskState t : in.tasks()) {
            if (!t.desiredRunning() || stopping.contains(t.id())) {
                continue;
            }
            if (t.deploymentId().equals(in.primaryId()) && !t.onDrainingNode()) {
                incoming.add(t);
            } else {
                outgoing.add(t);
            }
        }
        int incomingHealthy = (int) incoming.stream().filter(TaskState::healthy).count();
        int outgoingHealthy = (int) outgoing.stream().filter(TaskState::healthy).count();

        // B. Scale in: more incoming than desired; the least useful go first.
        if (incoming.size() > desired) {
            List<TaskState> order = new ArrayList<>(incoming);
            order.sort(LEAST_USEFUL_FIRST);
            for (TaskState t : order.subList(0, incoming.size() - desired)) {
                stops.add(new Stop(t.id(), SCALED_IN, false));
                incoming.remove(t);
                if (t.healthy()) {
                    incomingHealthy--;
                }
            }
        }

        // C. Start into the room under the ceiling (tasks PENDING or RUNNING; not those stopping).
        int start = 0;
        if (!in.primaryHalted()) {
            start = Math.max(0, Math.min(desired - incoming.size(), maxTasks - alive));
        }

        // D. Outgoing tasks go within the floor: first those that are not healthy (losing them costs
        //    no health), then healthy ones while the healthy count stays at or above the floor.
        //    With a halted PRIMARY nothing replaces them, so healthy ones stay.
        int budget = outgoing.size() + incomingHealthy - minHealthy;
        int healthyBudget = outgoingHealthy + incomingHealthy - minHealthy;
        List<TaskState> order = new ArrayList<>(outgoing);
        order.sort(LEAST_USEFUL_FIRST);
        for (TaskState t : order) {
            if (!t.placed()) {
                // Waiting for capacity, serving nothing and holding nothing: it just goes.
                stops.add(new Stop(t.id(), t.deploymentId().equals(in.primaryId()) ? DRAINED : REPLACED, false));
                budget--;
                continue;
            }
            if (budget <= 0) {
                break;
            }
            if (t.healthy()) {
                if (healthyBudget <= 0 || in.primaryHalted()) {
                    continue;
                }
                healthyBudget--;
            }
            budget--;
            stops.add(new Stop(t.id(), t.deploymentId().equals(in.primaryId()) ? DRAINED : REPLACED, false));
        }

        boolean steady = !in.primaryHalted() && stops.isEmpty() && start == 0 && outgoing.isEmpty()
                && incoming.size() == desired && incomingHealthy == desired && alive == desired;
        return new Plan(start, stops, steady);
    }

    /** Unplaced (always stoppable), then placed but not running, then running but not healthy, then the newest healthy. */
    private static final Comparator<TaskState> LEAST_USEFUL_FIRST = Comparator
            .comparingInt((TaskState t) -> !t.placed() ? 0 : !t.running() ? 1 : !t.healthy() ? 2 : 3)
            .thenComparing(TaskState::createdAt, Comparator.reverseOrder())
            .thenComparing(TaskState::id);
}
