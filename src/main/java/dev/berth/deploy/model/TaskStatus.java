package dev.berth.deploy.model;

/**
 * A task's lifecycle, in order. {@code lastStatus} moves forward only (an agent report of an earlier
 * status is ignored); so does {@code desiredStatus}, which is only ever RUNNING or STOPPED.
 *
 * <ul>
 *   <li>PROVISIONING: accepted, before the scheduler's first look at it.</li>
 *   <li>PENDING: waiting to run: not placed yet (then {@code pendingReason} says why, and it is
 *       placed as soon as capacity appears), or placed and being started by the node's agent.</li>
 *   <li>RUNNING: every essential container started.</li>
 *   <li>STOPPING: asked to stop, containers being stopped.</li>
 *   <li>STOPPED: done; {@code stoppedReason} and {@code stopCode} say why.</li>
 * </ul>
 */
public enum TaskStatus {
    PROVISIONING, PENDING, RUNNING, STOPPING, STOPPED;

    public boolean before(TaskStatus other) {
        return compareTo(other) < 0;
    }

    public boolean atLeast(TaskStatus other) {
        return compareTo(other) >= 0;
    }

    /** The later of the two: statuses never move back. */
    public TaskStatus advance(TaskStatus to) {
        return to.compareTo(this) > 0 ? to : this;
    }
}
