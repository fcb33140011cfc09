package dev.berth.deploy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.deploy.model.AutoDeploy;
import dev.berth.deploy.model.Cluster;
import dev.berth.deploy.model.ControlPlaneException;
import dev.berth.deploy.model.Deployment;
import dev.berth.deploy.model.DeploymentConfiguration;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.model.Node;
import dev.berth.deploy.model.Requests;
import dev.berth.deploy.model.Service;
import dev.berth.deploy.model.ServiceEvent;
import dev.berth.deploy.model.Task;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.deploy.model.TaskStatus;
import dev.berth.deploy.scheduler.RolloutEngine;
import dev.berth.deploy.state.Changes;
import dev.berth.deploy.trigger.Push;
import dev.berth.deploy.trigger.TriggerPolicy;
import dev.berth.deploy.state.ControlPlaneState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Services: the actions on them, their deployments, the circuit breaker, and the reconciliation
 * step that applies the {@link RolloutEngine}'s plan. Every method runs inside a state-machine
 * command.
 */
final class Services {
    private final Random random;
    private final ImageResolver images;

    Services(Random random, ImageResolver images) {
        this.random = random;
        this.images = images;
    }

    // ------------------------------------------------------------------------------------------
    // Actions

    /** Null when {@code pinned} is for another revision than the request now means (pin again). */
    ObjectNode create(ControlPlaneState state, Changes changes, Requests.CreateService r, Pinned pinned, Instant now) {
        Cluster cluster = ControlPlane.cluster(state, "cluster", r.cluster());
        String name = Cluster.checkName("serviceName", r.serviceName());
        Service existing = state.service(cluster.clusterName(), name);
        if (existing != null && !Service.INACTIVE.equals(existing.status)) {
            throw new ControlPlaneException(400, "InvalidParameterException", "service " + name
                    + " already exists in cluster " + cluster.clusterName() + " (status " + existing.status + ")", "serviceName");
        }
        TaskDefinition td = ControlPlane.taskDefinition(state, ControlPlane.Check.required("taskDefinition",
                r.taskDefinition()), true);
        if (!pinned.isFor(td)) {
            return null;
        }
        Service s = new Service();
        s.serviceArn = Service.arn(cluster.clusterName(), name);
        s.serviceName = name;
        s.cluster = cluster.clusterName();
        s.status = Service.ACTIVE;
        s.desiredCount = desiredCount(r.desiredCount(), 1);
        s.deploymentConfiguration = (r.deploymentConfiguration() == null ? DeploymentConfiguration.DEFAULT
                : r.deploymentConfiguration()).normalize("deploymentConfiguration");
        s.placementStrategy = ControlPlane.strategies(r.placementStrategy());
        s.placementConstraints = ControlPlane.constraints(r.placementConstraints());
        s.healthCheckGracePeriodSeconds = grace(r.healthCheckGracePeriodSeconds(), 0);
        s.autoDeploy = r.autoDeploy() == null ? null : r.autoDeploy().normalize("autoDeploy", td);
        checkRoom("deploymentConfiguration.maximumPercent", s.deploymentConfiguration, s.desiredCount);
        s.createdAt = now;
        startDeployment(s, td, pinned.images(), "CreateService", false, state, changes, now);
        reconcile(state, changes, s, now);
        return wrap(describe(state, s));
    }

    /** Null when {@code pinned} is for another revision than the request now means (pin again). */
    ObjectNode update(ControlPlaneState state, Changes changes, Requests.UpdateService r, Pinned pinned, Instant now) {
        Service s = active(state, r.cluster(), r.service());
        TaskDefinition td = r.taskDefinition() == null ? null : ControlPlane.taskDefinition(state, r.taskDefinition(), true);
        TaskDefinition target = td != null ? td : ControlPlane.taskDefinition(state, s.taskDefinition, false);
        // Everything is checked before anything changes.
        Integer desired = r.desiredCount() == null ? null : desiredCount(r.desiredCount(), 0);
        DeploymentConfiguration config = r.deploymentConfiguration() == null ? null
                : merged(r.deploymentConfiguration(), s.deploymentConfiguration).normalize("deploymentConfiguration");
        checkRoom(r.deploymentConfiguration() != null ? "deploymentConfiguration.maximumPercent" : "desiredCount",
                config != null ? config : s.deploymentConfiguration, desired != null ? desired : s.desiredCount);
        boolean newDefinition = td != null && !td.key().equals(s.taskDefinition);
        boolean deploy = newDefinition || Boolean.TRUE.equals(r.forceNewDeployment());
        if (deploy && !pinned.isFor(target)) {
            return null;
        }
        var strategies = r.placementStrategy() == null ? null : ControlPlane.strategies(r.placementStrategy());
        var constraints = r.placementConstraints() == null ? null : ControlPlane.constraints(r.placementConstraints());
        Integer grace = r.healthCheckGracePeriodSeconds() == null ? null : grace(r.healthCheckGracePeriodSeconds(), 0);
        if (r.autoDeploy() != null && Boolean.TRUE.equals(r.removeAutoDeploy())) {
            throw new FieldException("removeAutoDeploy", "give autoDeploy or removeAutoDeploy, not both");
        }
        AutoDeploy auto = r.autoDeploy() != null ? r.autoDeploy().normalize("autoDeploy", target)
                : Boolean.TRUE.equals(r.removeAutoDeploy()) || s.autoDeploy == null ? null
                : s.autoDeploy.normalize("autoDeploy", target);

        if (desired != null && desired != s.desiredCount) {
            s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") desired count changed from "
                    + s.desiredCount + " to " + desired + ".");
            s.desiredCount = desired;
        }
        if (config != null) {
            s.deploymentConfiguration = config;
        }
        if (strategies != null) {
            s.placementStrategy = strategies;
        }
        if (constraints != null) {
            s.placementConstraints = constraints;
        }
        if (grace != null) {
            s.healthCheckGracePeriodSeconds = grace;
        }
        if (s.pendingTrigger != null && !java.util.Objects.equals(auto, s.autoDeploy)) {
            s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") autoDeploy changed: the pending push of "
                    + s.pendingTrigger.image() + " is dropped.");
            s.pendingTrigger = null;
        }
        s.autoDeploy = auto;
        if (deploy) {
            startDeployment(s, target, pinned.images(), newDefinition ? "UpdateService" : "UpdateService (forceNewDeployment)",
                    false, state, changes, now);
        }
        reconcile(state, changes, s, now);
        state.putService(changes, s);
        return wrap(describe(state, s));
    }

    ObjectNode delete(ControlPlaneState state, Changes changes, Requests.DeleteService r, Instant now) {
        Service s = active(state, r.cluster(), r.service());
        if (s.desiredCount > 0 && !Boolean.TRUE.equals(r.force())) {
            throw new ControlPlaneException(400, "InvalidParameterException", "service " + s.serviceName
                    + " still wants " + s.desiredCount + " task(s): scale it to 0 first, or pass force", "service");
        }
        s.desiredCount = 0;
        s.status = Service.DRAINING;
        s.pendingTrigger = null;
        s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") is being deleted: its tasks are stopped.");
        reconcile(state, changes, s, now);
        state.putService(changes, s);
        return wrap(describe(state, s));
    }

    private static ObjectNode wrap(ObjectNode service) {
        ObjectNode answer = DeployJson.MAPPER.createObjectNode();
        answer.set("service", service);
        return answer;
    }

    ObjectNode describeAll(ControlPlaneState state, Requests.DescribeServices r) {
        Cluster cluster = ControlPlane.cluster(state, "cluster", r.cluster());
        return ControlPlane.describedOrMissing("services", ControlPlane.ids("services", r.services()), n -> {
            Service s = state.service(cluster.clusterName(), n);
            return s == null ? null : describe(state, s);
        });
    }

    ObjectNode list(ControlPlaneState state, Requests.ListServices r) {
        Cluster cluster = ControlPlane.cluster(state, "cluster", r.cluster());
        List<Service> live = state.services().stream()
                .filter(s -> s.cluster.equals(cluster.clusterName()) && !Service.INACTIVE.equals(s.status)).toList();
        Paging<Service> page = Paging.of(live, s -> s.serviceName, r.maxResults(), r.nextToken());
        ArrayNode arns = DeployJson.MAPPER.createArrayNode();
        page.items().forEach(s -> arns.add(s.serviceArn));
        ObjectNode answer = DeployJson.MAPPER.createObjectNode();
        answer.set("serviceArns", arns);
        if (page.nextToken() != null) {
            answer.put("nextToken", page.nextToken());
        }
        return answer;
    }

    ObjectNode events(ControlPlaneState state, Requests.ListServiceEvents r) {
        Cluster cluster = ControlPlane.cluster(state, "cluster", r.cluster());
        int max = r.maxResults() == null ? 100 : r.maxResults();
        if (max < 1 || max > 1000) {
            throw new FieldException("maxResults", "maxResults must be between 1 and 1000");
        }
        List<Service> from = new ArrayList<>();
        if (r.service() != null) {
            Service s = state.service(cluster.clusterName(), r.service());
            if (s == null) {
                throw ControlPlaneException.notFound("ServiceNotFoundException", "service", "no service "
                        + ControlPlane.shorten(r.service()) + " in cluster " + cluster.clusterName());
            }
            from.add(s);
        } else {
            state.services().stream().filter(s -> s.cluster.equals(cluster.clusterName())).forEach(from::add);
        }
        List<ObjectNode> all = new ArrayList<>();
        for (Service s : from) {
            for (ServiceEvent e : s.events) {
                ObjectNode n = DeployJson.MAPPER.valueToTree(e);
                n.put("serviceName", s.serviceName);
                all.add(n);
            }
        }
        // Newest first by time; within one instant each service's own order (already newest first) stays.
        all.sort(Comparator.comparing((ObjectNode n) -> Instant.parse(n.get("createdAt").asText())).reversed());
        ArrayNode events = DeployJson.MAPPER.createArrayNode();
        all.stream().limit(max).forEach(events::add);
        ObjectNode answer = DeployJson.MAPPER.createObjectNode();
        answer.set("events", events);
        return answer;
    }

    /** The images {@code r} would deploy, before resolving: the task definition to look at, if any. */
    static String definitionToPin(ControlPlaneState state, Requests.UpdateService r) {
        if (r.taskDefinition() != null) {
            return r.taskDefinition();
        }
        if (Boolean.TRUE.equals(r.forceNewDeployment())) {
            Service s = state.service(r.cluster() == null ? Cluster.DEFAULT : r.cluster(), r.service() == null ? "" : r.service());
            return s == null ? null : s.taskDefinition;
        }
        return null;
    }

    private static Service active(ControlPlaneState state, String clusterName, String name) {
        Cluster cluster = ControlPlane.cluster(state, "cluster", clusterName);
        ControlPlane.Check.required("service", name);
        Service s = state.service(cluster.clusterName(), name);
        if (s == null) {
            throw ControlPlaneException.notFound("ServiceNotFoundException", "service", "no service "
                    + ControlPlane.shorten(name) + " in cluster " + cluster.clusterName());
        }
        if (!Service.ACTIVE.equals(s.status)) {
            throw new ControlPlaneException(400, "ServiceNotActiveException", "service " + name + " is " + s.status, "service");
        }
        return s;
    }

    /** The fields given in an update over the service's current ones. */
    private static DeploymentConfiguration merged(DeploymentConfiguration given, DeploymentConfiguration current) {
        DeploymentConfiguration.CircuitBreaker cb = given.deploymentCircuitBreaker();
        DeploymentConfiguration.CircuitBreaker now = current.deploymentCircuitBreaker();
        DeploymentConfiguration.CircuitBreaker breaker = cb == null ? now : new DeploymentConfiguration.CircuitBreaker(
                cb.enable() != null ? cb.enable() : now.enable(),
                cb.rollback() != null ? cb.rollback() : now.rollback(),
                cb.threshold() != null ? cb.threshold() : now.threshold());
        return new DeploymentConfiguration(
                given.maximumPercent() != null ? given.maximumPercent() : current.maximumPercent(),
                given.minimumHealthyPercent() != null ? given.minimumHealthyPercent() : current.minimumHealthyPercent(),
                breaker);
    }

    /**
     * A rollout needs room on one side: a task above the desired count, or one below it. When the
     * ceiling and the floor both round to the desired count, no task could ever be replaced.
     */
    private static void checkRoom(String field, DeploymentConfiguration config, int desired) {
        if (desired > 0 && config.maximumTasks(desired) <= desired && config.minimumHealthy(desired) >= desired) {
            throw new FieldException(field, "with desiredCount " + desired + ", maximumPercent " + config.maximumPercent()
                    + " and minimumHealthyPercent " + config.minimumHealthyPercent() + " leave no room to replace a task:"
                    + " raise maximumPercent to at least " + ((desired + 1) * 100 + desired - 1) / desired
                    + " or lower minimumHealthyPercent");
        }
    }

    private static int desiredCount(Integer given, int orElse) {
        int n = given == null ? orElse : given;
        if (n < 0 || n > 10_000) {
            throw new FieldException("desiredCount", "desiredCount must be between 0 and 10000");
        }
        return n;
    }

    private static int grace(Integer given, int orElse) {
        int n = given == null ? orElse : given;
        if (n < 0 || n > 86_400) {
            throw new FieldException("healthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds must be between 0 and 86400");
        }
        return n;
    }

    ObjectNode describe(ControlPlaneState state, Service s) {
        ObjectNode n = DeployJson.MAPPER.valueToTree(s);
        int running = 0;
        int pending = 0;
        for (Task t : tasksOf(state, s)) {
            if (t.lastStatus == TaskStatus.RUNNING) {
                running++;
            } else if (t.lastStatus.before(TaskStatus.RUNNING)) {
                pending++;
            }
        }
        n.put("runningCount", running);
        n.put("pendingCount", pending);
        return n;
    }

    // ------------------------------------------------------------------------------------------
    // Deployments

    /**
     * Makes a new PRIMARY deployment of {@code td} with {@code images} (container to pinned image;
     * containers not named keep the task definition's image). The previous PRIMARY becomes ACTIVE:
     * its tasks are replaced by the rollout. A rollback adopts the live tasks that already run
     * exactly this version instead of replacing them.
     */
    Deployment startDeployment(Service s, TaskDefinition td, Map<String, String> images, String trigger, boolean rollback,
                               ControlPlaneState state, Changes changes, Instant now) {
        Deployment d = new Deployment();
        d.id = "ecs-svc/" + ControlPlane.newId().substring(0, 19);
        d.status = Deployment.PRIMARY;
        d.taskDefinition = td.key();
        for (var c : td.containerDefinitions()) {
            d.images.put(c.name(), images.getOrDefault(c.name(), c.image()));
        }
        d.desiredCount = s.desiredCount;
        d.rolloutState = Deployment.IN_PROGRESS;
        d.rolloutStateReason = rollback ? "rolling back" : "ECS deployment " + d.id + " in progress.";
        d.trigger = trigger;
        d.rollback = rollback;
        d.createdAt = now;
        d.updatedAt = now;
        Deployment old = s.primary();
        if (old != null) {
            old.status = Deployment.ACTIVE;
            old.desiredCount = 0;
            old.updatedAt = now;
            if (Deployment.IN_PROGRESS.equals(old.rolloutState)) {
                old.rolloutStateReason = "superseded by " + d.id;
            }
        }
        s.deployments.add(0, d);
        s.taskDefinition = td.key();
        if (rollback) {
            for (Task t : tasksOf(state, s)) {
                Deployment of = deployment(s, t.deploymentId);
                if (t.desiredStatus == TaskStatus.RUNNING && of != null && of != d && of.sameVersion(d)) {
                    t.deploymentId = d.id;
                    state.putTask(changes, t);
                }
            }
        }
        s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") started deployment " + d.id + " of "
                + td.key() + " with " + String.join(", ", d.images.values()) + " (" + trigger + ").");
        trimDeployments(s);
        state.putService(changes, s);
        return d;
    }

    private static void trimDeployments(Service s) {
        int inactive = 0;
        for (int i = 0; i < s.deployments.size(); i++) {
            if (Deployment.INACTIVE.equals(s.deployments.get(i).status) && ++inactive > Service.MAX_INACTIVE_DEPLOYMENTS) {
                s.deployments.remove(i--);
            }
        }
    }

    private static Deployment deployment(Service s, String id) {
        for (Deployment d : s.deployments) {
            if (d.id.equals(id)) {
                return d;
            }
        }
        return null;
    }

    /**
     * A task of {@code s} failed (did not start, crashed, went unhealthy). While the PRIMARY
     * deployment is in progress it counts against it; at the threshold the circuit breaker fails
     * the deployment and, if asked, rolls back to the last COMPLETED one.
     */
    void taskFailed(ControlPlaneState state, Changes changes, Service s, Task t, Instant now) {
        Deployment d = s.primary();
        if (d == null || !d.id.equals(t.deploymentId) || !Deployment.IN_PROGRESS.equals(d.rolloutState)) {
            return;
        }
        d.failedTasks++;
        d.updatedAt = now;
        state.putService(changes, s);
        DeploymentConfiguration config = s.deploymentConfiguration;
        if (!config.deploymentCircuitBreaker().enable() || d.failedTasks < config.failureThreshold(s.desiredCount)) {
            return;
        }
        d.rolloutState = Deployment.FAILED;
        String why = "circuit breaker: " + d.failedTasks + " task(s) failed (threshold "
                + config.failureThreshold(s.desiredCount) + "); last: " + t.stoppedReason;
        d.rolloutStateReason = why;
        s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") deployment " + d.id + " failed: " + why + ".");
        if (!config.deploymentCircuitBreaker().rollback() || d.rollback) {
            state.putService(changes, s);
            return;
        }
        Deployment target = null;
        for (Deployment candidate : s.deployments) {
            if (candidate != d && Deployment.COMPLETED.equals(candidate.rolloutState)) {
                target = candidate;
                break;
            }
        }
        if (target == null) {
            d.rolloutStateReason = why + "; nothing to roll back to (no COMPLETED deployment)";
            state.putService(changes, s);
            return;
        }
        for (String image : d.images.values()) {
            int at = image.indexOf('@');
            if (at > 0 && !target.images.containsValue(image) && !s.rolledBackDigests.contains(image.substring(at + 1))) {
                s.rolledBackDigests.add(image.substring(at + 1));
            }
        }
        while (s.rolledBackDigests.size() > 50) {
            s.rolledBackDigests.remove(0);
        }
        TaskDefinition td = ControlPlane.taskDefinition(state, target.taskDefinition, false);
        startDeployment(s, td, target.images, "rollback of " + d.id + " to " + target.id, true, state, changes, now);
    }

    // ------------------------------------------------------------------------------------------
    // Push triggers

    /**
     * A push: every ACTIVE service whose autoDeploy takes it deploys the pushed image (pinned to
     * the pushed digest) now, or, with {@code debounceSeconds}, once no further push came for that
     * long. Returns how many services it concerned.
     */
    int push(ControlPlaneState state, Changes changes, Push push, Instant now) {
        int concerned = 0;
        for (Service s : List.copyOf(state.services())) {
            Deployment primary = s.primary();
            if (!Service.ACTIVE.equals(s.status) || s.autoDeploy == null || primary == null) {
                continue;
            }
            AutoDeploy auto = s.autoDeploy;
            String base = primary.images.get(auto.container());
            if (s.pendingTrigger != null && s.pendingTrigger.container().equals(auto.container())) {
                base = s.pendingTrigger.image();
            }
            if (base == null) {
                continue;
            }
            String image = TriggerPolicy.decide(auto, base, push, s.rolledBackDigests, images::isThisRegistry);
            if (image == null) {
                continue;
            }
            concerned++;
            String reason = "push of " + push.repository() + ":" + push.tag() + "@" + push.digest()
                    + (push.source() == null ? "" : " (" + push.source() + ")");
            if (auto.debounceSeconds() > 0) {
                s.pendingTrigger = new Service.PendingTrigger(auto.container(), image, push.digest(), reason,
                        now.plusSeconds(auto.debounceSeconds()));
                s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") " + reason + ": deploying "
                        + image + " in " + auto.debounceSeconds() + " s unless another push comes first.");
                state.putService(changes, s);
            } else {
                deployImage(state, changes, s, auto.container(), image, reason, now);
            }
        }
        return concerned;
    }

    /** Deploys the debounced pushes that are due. */
    void firePendingTriggers(ControlPlaneState state, Changes changes, Instant now) {
        for (Service s : List.copyOf(state.services())) {
            Service.PendingTrigger p = s.pendingTrigger;
            if (p != null && !now.isBefore(p.dueAt())) {
                s.pendingTrigger = null;
                // Only while the service still follows pushes into that container.
                if (Service.ACTIVE.equals(s.status) && s.primary() != null && s.autoDeploy != null
                        && s.autoDeploy.container().equals(p.container())) {
                    deployImage(state, changes, s, p.container(), p.image(), p.reason(), now);
                } else {
                    state.putService(changes, s);
                }
            }
        }
    }

    private void deployImage(ControlPlaneState state, Changes changes, Service s, String container, String image,
                             String reason, Instant now) {
        Deployment primary = s.primary();
        if (image.equals(primary.images.get(container))) {
            state.putService(changes, s);
            return;
        }
        Map<String, String> images = new LinkedHashMap<>(primary.images);
        images.put(container, image);
        TaskDefinition td = ControlPlane.taskDefinition(state, primary.taskDefinition, false);
        startDeployment(s, td, images, reason, false, state, changes, now);
        reconcile(state, changes, s, now);
    }

    // ------------------------------------------------------------------------------------------
    // Reconciliation

    static List<Task> tasksOf(ControlPlaneState state, Service s) {
        return List.copyOf(state.liveTasks(s.cluster, s.group()));
    }

    /**
     * Brings {@code s} one step closer to what it wants (the rollout engine's plan), places what it
     * started, and updates deployments, counts and events. Writes the service only when it changed.
     */
    void reconcile(ControlPlaneState state, Changes changes, Service s, Instant now) {
        if (Service.INACTIVE.equals(s.status)) {
            return;
        }
        String before = json(s);
        for (int round = 0; round < 3; round++) {
            Deployment primary = s.primary();
            if (primary == null) {
                break;
            }
            List<Task> tasks = tasksOf(state, s);
            Map<String, Boolean> healthChecked = new HashMap<>();
            List<RolloutEngine.TaskState> views = new ArrayList<>();
            for (Task t : tasks) {
                boolean hc = healthChecked.computeIfAbsent(t.taskDefinitionArn, k -> hasHealthCheck(state, k));
                boolean running = t.lastStatus == TaskStatus.RUNNING;
                boolean healthy = running && (!hc || Task.HEALTHY.equals(t.healthStatus));
                boolean unhealthy = running && hc && Task.UNHEALTHY.equals(t.healthStatus) && t.startedAt != null
                        && !now.isBefore(t.startedAt.plusSeconds(s.healthCheckGracePeriodSeconds));
                Node node = t.containerInstanceArn == null ? null : state.node(t.containerInstanceArn);
                boolean draining = t.containerInstanceArn != null && (node == null || !Node.ACTIVE.equals(node.status()));
                views.add(new RolloutEngine.TaskState(t.taskArn, t.deploymentId == null ? "" : t.deploymentId,
                        t.desiredStatus == TaskStatus.RUNNING, t.placed(), running, healthy, unhealthy, draining, t.createdAt));
            }
            boolean halted = Deployment.FAILED.equals(primary.rolloutState);
            RolloutEngine.Plan plan = RolloutEngine.plan(new RolloutEngine.Input(s.desiredCount, s.deploymentConfiguration,
                    primary.id, halted, views));
            boolean deploymentsChanged = false;
            List<String> stopped = new ArrayList<>();
            for (RolloutEngine.Stop stop : plan.stops()) {
                Task t = state.task(stop.taskId());
                if (t.requestStop(Task.SERVICE_SCHEDULER_INITIATED, stop.reason(), now)) {
                    state.putTask(changes, t);
                    stopped.add(t.taskArn);
                    if (stop.failure()) {
                        Deployment p = s.primary();
                        taskFailed(state, changes, s, t, now);
                        deploymentsChanged |= s.primary() != p;
                    }
                }
            }
            if (!stopped.isEmpty()) {
                s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") has stopped " + stopped.size()
                        + " task(s): " + String.join(", ", stopped) + ".");
            }
            if (deploymentsChanged) {
                continue;
            }
            if (plan.start() > 0) {
                TaskDefinition td = ControlPlane.taskDefinition(state, primary.taskDefinition, false);
                List<String> started = new ArrayList<>();
                for (int i = 0; i < plan.start(); i++) {
                    Task t = Placements.newTask(s.cluster, td, s.group(), "service:" + s.serviceName, s.placementStrategy,
                            s.placementConstraints, primary.images, now);
                    t.serviceName = s.serviceName;
                    t.deploymentId = primary.id;
                    state.putTask(changes, t);
                    started.add(t.taskArn);
                }
                Placements.placePending(state, changes, s.cluster, random);
                s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") has started " + started.size()
                        + " task(s): " + String.join(", ", started) + ".");
            }
            placementTrouble(state, s, now);
            if (plan.steady() && Deployment.IN_PROGRESS.equals(primary.rolloutState)) {
                primary.rolloutState = Deployment.COMPLETED;
                primary.rolloutStateReason = "ECS deployment " + primary.id + " completed.";
                primary.updatedAt = now;
                s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") (deployment " + primary.id
                        + ") deployment completed.");
                s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") has reached a steady state.");
            }
            break;
        }
        updateCounts(state, s, now);
        if (Service.DRAINING.equals(s.status) && tasksOf(state, s).isEmpty()) {
            s.status = Service.INACTIVE;
            s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") is INACTIVE: deleted.");
        }
        if (!json(s).equals(before)) {
            state.putService(changes, s);
        }
    }

    /** One event per new placement problem of the service's waiting tasks, not one per tick. */
    private static void placementTrouble(ControlPlaneState state, Service s, Instant now) {
        String reason = null;
        for (Task t : tasksOf(state, s)) {
            if (!t.placed() && t.pendingReason != null) {
                reason = t.pendingReason;
                break;
            }
        }
        if (reason != null && !reason.equals(s.lastPlacementMessage)) {
            s.event(ControlPlane.newId(), now, "(service " + s.serviceName + ") was unable to place a task. Reason: "
                    + reason + ".");
        }
        s.lastPlacementMessage = reason;
    }

    private static void updateCounts(ControlPlaneState state, Service s, Instant now) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (Task t : tasksOf(state, s)) {
            int[] c = counts.computeIfAbsent(t.deploymentId == null ? "" : t.deploymentId, k -> new int[2]);
            if (t.lastStatus == TaskStatus.RUNNING) {
                c[0]++;
            } else if (t.lastStatus.before(TaskStatus.RUNNING)) {
                c[1]++;
            }
        }
        Deployment primary = s.primary();
        boolean primaryDone = primary != null && !Deployment.IN_PROGRESS.equals(primary.rolloutState);
        for (Deployment d : s.deployments) {
            int[] c = counts.getOrDefault(d.id, new int[2]);
            d.runningCount = c[0];
            d.pendingCount = c[1];
            if (d == primary) {
                d.desiredCount = s.desiredCount;
            } else if (Deployment.ACTIVE.equals(d.status) && primaryDone && c[0] + c[1] == 0
                    && tasksOf(state, s).stream().noneMatch(t -> d.id.equals(t.deploymentId))) {
                d.status = Deployment.INACTIVE;
                d.updatedAt = now;
            }
        }
    }

    private static boolean hasHealthCheck(ControlPlaneState state, String taskDefinition) {
        TaskDefinition td = ControlPlane.taskDefinition(state, taskDefinition, false);
        return td.containerDefinitions().stream().anyMatch(c -> c.essential() && c.healthCheck() != null);
    }

    private static String json(Service s) {
        try {
            return DeployJson.MAPPER.writeValueAsString(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
