package dev.berth.deploy.model;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One version of a service being rolled out: a task definition revision with each container's
 * image pinned by digest ({@code repo:tag@sha256:…}) so that replacements and rollbacks never drift.
 * {@code status}: PRIMARY (the target), ACTIVE (older, its tasks being replaced), INACTIVE (done).
 */
public final class Deployment {
    public static final String PRIMARY = "PRIMARY";
    public static final String ACTIVE = "ACTIVE";
    public static final String INACTIVE = "INACTIVE";
    public static final String IN_PROGRESS = "IN_PROGRESS";
    public static final String COMPLETED = "COMPLETED";
    public static final String FAILED = "FAILED";

    public String id;
    public String status;
    public String taskDefinition;
    /** Container name to the image its tasks run, pinned by digest where the digest is known. */
    public Map<String, String> images = new LinkedHashMap<>();
    public int desiredCount;
    public int runningCount;
    public int pendingCount;
    public int failedTasks;
    public String rolloutState;
    public String rolloutStateReason;
    /** What started it: {@code UpdateService}, {@code CreateService}, a push, or a rollback. */
    public String trigger;
    /** A rollback deployment is never itself rolled back. */
    public boolean rollback;
    public Instant createdAt;
    public Instant updatedAt;

    public boolean sameVersion(Deployment o) {
        return taskDefinition.equals(o.taskDefinition) && images.equals(o.images);
    }
}
