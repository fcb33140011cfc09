package dev.berth.deploy.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A task: one run of a task definition on one node. A plain field-only class: it lives in the
 * controller's state, changed only on the controller's context, and is copied (serialized) before
 * it leaves it.
 *
 * <p>{@code group} is {@code service:NAME} for a service's tasks and {@code family:FAMILY} (or what
 * RunTask was given) otherwise; spread and distinctInstance count tasks per group.
 */
public final class Task {
    public String taskArn;
    public String cluster;
    public String taskDefinitionArn;
    public String group;
    public String serviceName;
    public String deploymentId;
    public String startedBy;
    public String containerInstanceArn;
    public TaskStatus lastStatus;
    public TaskStatus desiredStatus;
    public String healthStatus;
    public String pendingReason;
    public String stoppedReason;
    public String stopCode;
    public int cpu;
    public int memory;
    /** The fixed host ports the task holds on its node ({@code port/protocol}). */
    public List<String> hostPorts = new ArrayList<>();
    public List<TaskContainer> containers = new ArrayList<>();
    public Instant createdAt;
    public Instant startedAt;
    public Instant stoppingAt;
    public Instant stoppedAt;
    /** How the task wants to be placed, kept so that a task waiting for capacity is placed the same way later. */
    public List<PlacementStrategy> placementStrategy = new ArrayList<>();
    public List<PlacementConstraint> placementConstraints = new ArrayList<>();
    /** Bumped on every change the node must hear about (desired status): the agent's snapshot version. */
    public long version;
    /** The last report sequence number stored from the node's agent: older or repeated reports are ignored. */
    public long lastReportSeq;

    public static final String HEALTHY = "HEALTHY";
    public static final String UNHEALTHY = "UNHEALTHY";
    public static final String UNKNOWN = "UNKNOWN";

    /** Stop codes, as ECS names them. */
    public static final String TASK_FAILED_TO_START = "TaskFailedToStart";
    public static final String ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited";
    public static final String USER_INITIATED = "UserInitiated";
    public static final String SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated";
    /** Its node stopped answering for longer than {@code lostAfter}. */
    public static final String TASK_LOST = "TaskLost";

    /** Holds resources on its node: placed and not yet STOPPED. */
    @JsonIgnore
    public boolean holdsResources() {
        return containerInstanceArn != null && lastStatus != TaskStatus.STOPPED;
    }

    @JsonIgnore
    public boolean placed() {
        return containerInstanceArn != null;
    }

    /** Asks the task to stop: desired status STOPPED, with the reason kept from the first request. */
    public boolean requestStop(String code, String reason, Instant now) {
        if (desiredStatus == TaskStatus.STOPPED) {
            return false;
        }
        desiredStatus = TaskStatus.STOPPED;
        stopCode = code;
        stoppedReason = reason;
        version++;
        if (!placed()) {
            // Never reached a node: nothing to stop there.
            lastStatus = TaskStatus.STOPPED;
            pendingReason = null;
            stoppingAt = now;
            stoppedAt = now;
        } else if (lastStatus.before(TaskStatus.STOPPING)) {
            lastStatus = TaskStatus.STOPPING;
            stoppingAt = now;
        }
        return true;
    }
}
