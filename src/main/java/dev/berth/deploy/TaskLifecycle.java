package dev.berth.deploy;

import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.model.Requests;
import dev.berth.deploy.model.Task;
import dev.berth.deploy.model.TaskContainer;
import dev.berth.deploy.model.TaskStatus;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a node's report does to a task: the task's next state as a function of its current one and
 * the report. Statuses only move forward: a late or repeated report never takes a task back, a
 * report on a STOPPED task changes nothing, and RUNNING reported for a task asked to stop leaves
 * it STOPPING.
 */
final class TaskLifecycle {
    private static final List<String> CONTAINER_ORDER = List.of("PENDING", "RUNNING", "STOPPED");

    private TaskLifecycle() {
    }

    /** A status an agent may report: PENDING, RUNNING, STOPPED. */
    static TaskStatus reportedStatus(String status) {
        if (status == null) {
            throw new FieldException("status", "status is required");
        }
        return switch (status) {
            case "PENDING" -> TaskStatus.PENDING;
            case "RUNNING" -> TaskStatus.RUNNING;
            case "STOPPED" -> TaskStatus.STOPPED;
            default -> throw new FieldException("status", "status must be PENDING, RUNNING or STOPPED");
        };
    }

    static String health(String field, String health) {
        if (health != null && !health.equals(Task.HEALTHY) && !health.equals(Task.UNHEALTHY) && !health.equals(Task.UNKNOWN)) {
            throw new FieldException(field, field + " must be HEALTHY, UNHEALTHY or UNKNOWN");
        }
        return health;
    }

    /** Every reported container is one of the task's, once, with a valid status. */
    static void checkContainers(Task task, List<Requests.ContainerStateChange> reported) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < reported.size(); i++) {
            String f = "containers[" + i + "]";
            Requests.ContainerStateChange c = reported.get(i);
            if (c == null || c.containerName() == null) {
                throw new FieldException(f + ".containerName", f + ".containerName is required");
            }
            if (task.containers.stream().noneMatch(tc -> tc.name().equals(c.containerName()))) {
                throw new FieldException(f + ".containerName", "task has no container " + ControlPlane.shorten(c.containerName()));
            }
            if (!seen.add(c.containerName())) {
                throw new FieldException(f + ".containerName", "container " + c.containerName() + " is reported twice");
            }
            if (c.status() != null && !CONTAINER_ORDER.contains(c.status())) {
                throw new FieldException(f + ".status", f + ".status must be PENDING, RUNNING or STOPPED");
            }
            health(f + ".healthStatus", c.healthStatus());
            List<dev.berth.deploy.model.NetworkBinding> bindings = c.networkBindings() == null ? List.of() : c.networkBindings();
            for (int b = 0; b < bindings.size(); b++) {
                String bf = f + ".networkBindings[" + b + "]";
                var binding = bindings.get(b);
                if (binding == null) {
                    throw new FieldException(bf, bf + " must be an object");
                }
                if (binding.containerPort() < 1 || binding.containerPort() > 65535) {
                    throw new FieldException(bf + ".containerPort", bf + ".containerPort must be between 1 and 65535");
                }
                if (binding.hostPort() < 1 || binding.hostPort() > 65535) {
                    throw new FieldException(bf + ".hostPort", bf + ".hostPort must be between 1 and 65535");
                }
                if (binding.protocol() != null && !binding.protocol().equals("tcp") && !binding.protocol().equals("udp")) {
                    throw new FieldException(bf + ".protocol", bf + ".protocol must be tcp or udp");
                }
                if (binding.bindIP() != null && binding.bindIP().length() > 64) {
                    throw new FieldException(bf + ".bindIP", bf + ".bindIP is too long");
                }
            }
            if (c.reason() != null && c.reason().length() > 1024) {
                throw new FieldException(f + ".reason", f + ".reason is longer than 1024 characters");
            }
        }
    }

    /**
     * Applies a report to {@code task}. Returns true when the task has just become STOPPED (its
     * resources are free again).
     */
    static boolean apply(Task task, TaskStatus reported, String reason, List<Requests.ContainerStateChange> containers,
                         String health, Instant now) {
        if (task.lastStatus == TaskStatus.STOPPED || !task.placed()) {
            return false;
        }
        for (Requests.ContainerStateChange c : containers) {
            for (int i = 0; i < task.containers.size(); i++) {
                TaskContainer tc = task.containers.get(i);
                if (!tc.name().equals(c.containerName())) {
                    continue;
                }
                String status = tc.lastStatus();
                if (c.status() != null && CONTAINER_ORDER.indexOf(c.status()) > CONTAINER_ORDER.indexOf(status)) {
                    status = c.status();
                }
                task.containers.set(i, new TaskContainer(tc.name(), tc.image(), status,
                        c.exitCode() != null ? c.exitCode() : tc.exitCode(),
                        c.reason() != null ? c.reason() : tc.reason(),
                        c.healthStatus() != null ? c.healthStatus() : tc.healthStatus(),
                        c.networkBindings() != null && !c.networkBindings().isEmpty() ? c.networkBindings()
                                : tc.networkBindings()));
            }
        }
        if (health != null) {
            task.healthStatus = health;
        }
        TaskStatus before = task.lastStatus;
        task.lastStatus = before.advance(reported);
        if (task.lastStatus == TaskStatus.RUNNING && task.startedAt == null) {
            task.startedAt = now;
        }
        if (task.lastStatus != TaskStatus.STOPPED) {
            return false;
        }
        task.stoppedAt = now;
        if (task.stoppingAt == null) {
            task.stoppingAt = now;
        }
        if (task.desiredStatus != TaskStatus.STOPPED) {
            // Stopped on its own: an essential container exited, or it never got going.
            task.desiredStatus = TaskStatus.STOPPED;
            task.version++;
            boolean started = task.startedAt != null;
            task.stopCode = started ? Task.ESSENTIAL_CONTAINER_EXITED : Task.TASK_FAILED_TO_START;
            task.stoppedReason = reason != null ? reason
                    : started ? "Essential container in task exited" : "Task failed to start";
        }
        return true;
    }
}
