package dev.berth.agent;

import dev.berth.agent.docker.ContainerConfig;
import dev.berth.agent.docker.DockerEngine;
import dev.berth.agent.docker.DockerException;
import dev.berth.deploy.model.ContainerDefinition;
import dev.berth.deploy.model.ContainerDependency;
import dev.berth.deploy.model.ImageReference;
import dev.berth.deploy.model.NetworkBinding;
import dev.berth.deploy.model.Requests;
import dev.berth.deploy.model.TaskDefinition;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of one task on a node: makes its containers match the desired status and reports
 * what happened. Steps never overlap ({@link #step} returns at once while one is in flight).
 *
 * <ul>
 *   <li>RUNNING wanted, nothing started: pull each image (by digest), create the containers, start
 *       them in dependency order, report RUNNING with the host ports the Engine picked. A failure
 *       removes what was made and reports STOPPED with the reason (the task failed to start).</li>
 *   <li>RUNNING: watch the containers. An essential one that exits stops the task (its exit codes
 *       reported); health checks roll up into the task's HEALTHY/UNHEALTHY.</li>
 *   <li>STOPPED wanted: stop the containers (SIGTERM, then SIGKILL after {@code stopTimeout}),
 *       report STOPPED with the exit codes, remove them.</li>
 * </ul>
 */
final class TaskRunner {
    private static final Logger LOG = LoggerFactory.getLogger(TaskRunner.class);
    /** How long a dependency may take to reach its condition (HEALTHY, COMPLETE, SUCCESS). */
    private static final long DEPENDENCY_WAIT_MS = 300_000;

    /** Where reports go: recorded durably and sent by the agent. */
    interface Reports {
        void report(LocalState.LocalTask task, String status, String reason, List<Requests.ContainerStateChange> containers,
                    String health);

        /** Persists the agent's state (after a phase change that is not a report). */
        void persist();
    }

    private final Vertx vertx;
    private final DockerEngine docker;
    /** The X-Registry-Auth to pull an image with, or null. */
    private final java.util.function.Function<String, JsonObject> pullAuth;
    private final LocalState.LocalTask task;
    private final Reports reports;
    private final Map<String, String> labels;
    private boolean busy;

    TaskRunner(Vertx vertx, DockerEngine docker, LocalState.LocalTask task,
               java.util.function.Function<String, JsonObject> pullAuth, Reports reports, Map<String, String> labels) {
        this.vertx = vertx;
        this.docker = docker;
        this.pullAuth = pullAuth;
        this.task = task;
        this.reports = reports;
        this.labels = labels;
    }

    LocalState.LocalTask task() {
        return task;
    }

    /** One step towards the desired status; a no-op while the previous one runs. Completes when done. */
    Future<Void> step() {
        if (busy || LocalState.LocalTask.DONE.equals(task.phase)) {
            return Future.succeededFuture();
        }
        busy = true;
        Future<Void> f;
        try {
            if (LocalState.LocalTask.CLEANING.equals(task.phase)) {
                f = cleanUp();
            } else if (task.wantsStop()) {
                f = stopAll("Task stopped", null);
            } else if (LocalState.LocalTask.NEW.equals(task.phase)) {
                f = startAll();
            } else {
                f = watch();
            }
        } catch (RuntimeException e) {
            f = Future.failedFuture(e);
        }
        return f.recover(e -> {
            LOG.atWarn().setCause(e).addKeyValue("task", task.spec.taskArn()).log("task step failed; will retry");
            return Future.succeededFuture();
        }).onComplete(v -> busy = false);
    }

    private TaskDefinition definition() {
        return task.spec.taskDefinition();
    }

    /** The image to run: pinned by digest when there is one (a tag next to it only confuses the Engine). */
    static String runnable(String image) {
        ImageReference ref = ImageReference.parse(image);
        if (ref.digest() == null) {
            return image;
        }
        return new ImageReference(ref.registry(), ref.repository(), null, ref.digest()).toString();
    }

    // ------------------------------------------------------------------------------------------
    // Start

    private Future<Void> startAll() {
        TaskDefinition td = definition();
        List<ContainerDefinition> order = startOrder(td);
        Future<Void> chain = Future.succeededFuture();
        for (ContainerDefinition c : order) {
            chain = chain.compose(v -> pull(c));
        }
        for (ContainerDefinition c : order) {
            chain = chain.compose(v -> create(td, c));
        }
        for (ContainerDefinition c : order) {
            chain = chain.compose(v -> waitForDependencies(c)).compose(v -> docker.start(task.containers.get(c.name())));
        }
        return chain.compose(v -> bindings()).compose(containers -> {
            task.phase = LocalState.LocalTask.RUNNING;
            reports.report(task, "RUNNING", null, containers, null);
            return Future.<Void>succeededFuture();
        }).recover(e -> {
            String reason = (e instanceof PullFailure ? "CannotPullContainerError: " : "CannotStartContainerError: ")
                    + e.getMessage();
            task.phase = LocalState.LocalTask.CLEANING;
            reports.report(task, "STOPPED", shorten(reason), List.of(), null);
            return cleanUp();
        });
    }

    /** A pull failure, to tell CannotPullContainerError from other start failures. */
    private static final class PullFailure extends RuntimeException {
        PullFailure(String message) {
            super(message, null, false, false);
        }
    }

    private Future<Void> pull(ContainerDefinition c) {
        String image = runnable(task.spec.images().getOrDefault(c.name(), c.image()));
        return docker.imagePresent(image).compose(present -> present ? Future.succeededFuture()
                : docker.pull(image, pullAuth.apply(image))).recover(e -> Future.failedFuture(new PullFailure(e.getMessage())));
    }

    private Future<Void> create(TaskDefinition td, ContainerDefinition c) {
        if (task.containers.containsKey(c.name())) {
            return Future.succeededFuture();
        }
        String image = runnable(task.spec.images().getOrDefault(c.name(), c.image()));
        JsonObject config = ContainerConfig.of(td, c, image, task.spec.taskArn(), labels);
        return docker.create(ContainerConfig.containerName(task.spec.taskArn(), c.name()), config).map(id -> {
            task.containers.put(c.name(), id);
            return null;
        });
    }

    /** Containers in an order that starts each after those it depends on. */
    static List<ContainerDefinition> startOrder(TaskDefinition td) {
        List<ContainerDefinition> out = new ArrayList<>();
        List<ContainerDefinition> left = new ArrayList<>(td.containerDefinitions());
        while (!left.isEmpty()) {
            boolean progressed = false;
            for (ContainerDefinition c : List.copyOf(left)) {
                boolean ready = c.dependsOn().stream().allMatch(d -> out.stream().anyMatch(o -> o.name().equals(d.containerName())));
                if (ready) {
                    out.add(c);
                    left.remove(c);
                    progressed = true;
                }
            }
            if (!progressed) {
                // Cycles are refused at registration; keep going rather than hang.
                out.addAll(left);
                break;
            }
        }
        return out;
    }

    private Future<Void> waitForDependencies(ContainerDefinition c) {
        Future<Void> chain = Future.succeededFuture();
        for (ContainerDependency d : c.dependsOn()) {
            if (d.condition().equals("START")) {
                continue;
            }
            chain = chain.compose(v -> waitFor(task.containers.get(d.containerName()), d, System.currentTimeMillis()
                    + DEPENDENCY_WAIT_MS));
        }
        return chain;
    }

    private Future<Void> waitFor(String id, ContainerDependency d, long deadline) {
        return docker.inspect(id).compose(info -> {
            JsonObject state = info.getJsonObject("State");
            boolean exited = "exited".equals(state.getString("Status")) || "dead".equals(state.getString("Status"));
            String health = state.getJsonObject("Health") == null ? null : state.getJsonObject("Health").getString("Status");
            boolean met = switch (d.condition()) {
                case "HEALTHY" -> "healthy".equals(health);
                case "COMPLETE" -> exited;
                case "SUCCESS" -> exited && state.getInteger("ExitCode", -1) == 0;
                default -> true;
            };
            if (met) {
                return Future.succeededFuture();
            }
            if (d.condition().equals("SUCCESS") && exited) {
                return Future.failedFuture(new IllegalStateException("dependency " + d.containerName() + " exited with "
                        + state.getInteger("ExitCode")));
            }
            if (System.currentTimeMillis() > deadline) {
                return Future.failedFuture(new IllegalStateException("dependency " + d.containerName() + " did not reach "
                        + d.condition() + " in time"));
            }
            Promise<Void> later = Promise.promise();
            vertx.setTimer(500, t -> waitFor(id, d, deadline).onComplete(later));
            return later.future();
        });
    }

    /** Each container's host port bindings as the Engine made them. */
    private Future<List<Requests.ContainerStateChange>> bindings() {
        List<Future<Requests.ContainerStateChange>> all = new ArrayList<>();
        task.containers.forEach((name, id) -> all.add(docker.inspect(id).map(info ->
                new Requests.ContainerStateChange(name, "RUNNING", null, null, null, portBindings(info)))));
        return Future.all(all).map(cf -> {
            List<Requests.ContainerStateChange> out = new ArrayList<>();
            for (int i = 0; i < cf.size(); i++) {
                out.add(cf.resultAt(i));
            }
            return out;
        });
    }

    static List<NetworkBinding> portBindings(JsonObject inspected) {
        List<NetworkBinding> out = new ArrayList<>();
        JsonObject ports = inspected.getJsonObject("NetworkSettings", new JsonObject()).getJsonObject("Ports");
        if (ports == null) {
            return out;
        }
        for (String key : ports.fieldNames()) {
            JsonArray list = ports.getJsonArray(key);
            if (list == null) {
                continue;
            }
            String[] parts = key.split("/");
            for (Object o : list) {
                JsonObject b = (JsonObject) o;
                String hostIp = b.getString("HostIp", "");
                if (hostIp.contains(":")) {
                    continue; // the IPv6 twin of an IPv4 binding
                }
                out.add(new NetworkBinding(hostIp.isEmpty() ? "0.0.0.0" : hostIp, Integer.parseInt(parts[0]),
                        Integer.parseInt(b.getString("HostPort")), parts.length > 1 ? parts[1] : "tcp"));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Watch

    private Future<Void> watch() {
        Map<String, Future<JsonObject>> inspected = new LinkedHashMap<>();
        task.containers.forEach((name, id) -> inspected.put(name, docker.inspect(id)
                .recover(e -> e instanceof DockerException d && d.notFound()
                        ? Future.succeededFuture(new JsonObject().put("State", new JsonObject().put("Status", "removed")))
                        : Future.failedFuture(e))));
        return Future.all(new ArrayList<>(inspected.values())).compose(v -> {
            Map<String, JsonObject> states = new HashMap<>();
            inspected.forEach((name, f) -> states.put(name, f.result().getJsonObject("State")));
            String exitedEssential = null;
            for (ContainerDefinition c : definition().containerDefinitions()) {
                JsonObject s = states.get(c.name());
                if (s != null && c.essential() && !isRunning(s)) {
                    exitedEssential = c.name();
                    break;
                }
            }
            if (exitedEssential != null) {
                JsonObject s = states.get(exitedEssential);
                String reason = "removed".equals(s.getString("Status")) ? "Essential container " + exitedEssential
                        + " was removed outside Berth" : "Essential container " + exitedEssential + " exited with code "
                        + s.getInteger("ExitCode") + (s.getBoolean("OOMKilled", false) ? " (OOMKilled)" : "");
                return stopAll(null, reason);
            }
            String health = health(definition(), states);
            if (!health.equals(task.reportedHealth)) {
                reports.report(task, "RUNNING", null, List.of(), health);
            }
            return Future.succeededFuture();
        });
    }

    private static boolean isRunning(JsonObject state) {
        String s = state.getString("Status");
        return "running".equals(s) || "restarting".equals(s) || "paused".equals(s);
    }

    /** The task's health: UNHEALTHY if an essential container's check fails, HEALTHY when all pass. */
    static String health(TaskDefinition td, Map<String, JsonObject> states) {
        boolean any = false;
        boolean allHealthy = true;
        for (ContainerDefinition c : td.containerDefinitions()) {
            if (!c.essential() || c.healthCheck() == null) {
                continue;
            }
            any = true;
            JsonObject s = states.get(c.name());
            JsonObject h = s == null ? null : s.getJsonObject("Health");
            String status = h == null ? "starting" : h.getString("Status");
            if ("unhealthy".equals(status)) {
                return "UNHEALTHY";
            }
            allHealthy &= "healthy".equals(status);
        }
        return !any ? "UNKNOWN" : allHealthy ? "HEALTHY" : "UNKNOWN";
    }

    // ------------------------------------------------------------------------------------------
    // Stop

    /**
     * Stops every container, reports STOPPED with their exit codes ({@code reason}: why it stopped on
     * its own; null when asked to), then removes them.
     */
    private Future<Void> stopAll(String asked, String reason) {
        List<Future<Requests.ContainerStateChange>> stops = new ArrayList<>();
        for (ContainerDefinition c : definition().containerDefinitions()) {
            String id = task.containers.get(c.name());
            if (id == null) {
                continue;
            }
            stops.add(docker.stop(id, c.stopTimeout()).recover(e -> e instanceof DockerException d
                            && (d.notFound() || d.status() == 304) ? Future.succeededFuture() : Future.failedFuture(e))
                    .compose(v -> docker.inspect(id))
                    .map(info -> {
                        JsonObject s = info.getJsonObject("State");
                        return new Requests.ContainerStateChange(c.name(), "STOPPED", s.getInteger("ExitCode"),
                                s.getBoolean("OOMKilled", false) ? "OOMKilled" : null, null, null);
                    })
                    .recover(e -> e instanceof DockerException d && d.notFound()
                            ? Future.succeededFuture(new Requests.ContainerStateChange(c.name(), "STOPPED", null,
                            "container removed outside Berth", null, null))
                            : Future.failedFuture(e)));
        }
        return Future.all(new ArrayList<>(stops)).compose(cf -> {
            List<Requests.ContainerStateChange> containers = new ArrayList<>();
            for (int i = 0; i < cf.size(); i++) {
                containers.add(cf.resultAt(i));
            }
            task.phase = LocalState.LocalTask.CLEANING;
            reports.report(task, "STOPPED", reason != null ? shorten(reason) : null, containers, null);
            return cleanUp();
        });
    }

    /**
     * Removes the task's containers and scratch volumes (stopped, or never started), then marks it
     * DONE. A removal that fails leaves it CLEANING: the next step tries again.
     */
    private Future<Void> cleanUp() {
        List<Future<Void>> removals = new ArrayList<>();
        for (Map.Entry<String, String> c : List.copyOf(task.containers.entrySet())) {
            removals.add(docker.remove(c.getValue(), true)
                    .recover(e -> e instanceof DockerException d && d.notFound() ? Future.succeededFuture() : Future.failedFuture(e))
                    .onSuccess(v -> task.containers.remove(c.getKey())));
        }
        return Future.all(new ArrayList<>(removals)).compose(v -> docker.volumes(ContainerConfig.scratchVolume(task.spec.taskArn(), "")))
                .compose(names -> Future.all(new ArrayList<>(names.stream().map(docker::removeVolume).toList())))
                .map(v -> {
                    task.phase = LocalState.LocalTask.DONE;
                    reports.persist();
                    return null;
                });
    }

    private static String shorten(String s) {
        return s.length() > 1000 ? s.substring(0, 1000) + "…" : s;
    }
}
