package dev.berth.deploy;

import dev.berth.deploy.model.ContainerDefinition;
import dev.berth.deploy.model.Node;
import dev.berth.deploy.model.PlacementConstraint;
import dev.berth.deploy.model.PlacementStrategy;
import dev.berth.deploy.model.Task;
import dev.berth.deploy.model.TaskContainer;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.deploy.model.TaskStatus;
import dev.berth.deploy.scheduler.ClusterSnapshot;
import dev.berth.deploy.scheduler.NodeSnapshot;
import dev.berth.deploy.scheduler.Scheduler;
import dev.berth.deploy.scheduler.TaskRequirements;
import dev.berth.deploy.state.Changes;
import dev.berth.deploy.state.ControlPlaneState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Creating tasks and putting them on nodes: the controller's side of placement. */
final class Placements {
    private Placements() {
    }

    /**
     * A new task of {@code td}, not yet placed. {@code images} (container name to image) overrides
     * the task definition's images: a deployment's pinned ones.
     */
    static Task newTask(String cluster, TaskDefinition td, String group, String startedBy,
                        List<PlacementStrategy> strategies, List<PlacementConstraint> constraints,
                        Map<String, String> images, Instant now) {
        Task t = new Task();
        t.taskArn = ControlPlane.newId();
        t.cluster = cluster;
        t.taskDefinitionArn = td.key();
        t.group = group;
        t.startedBy = startedBy;
        t.lastStatus = TaskStatus.PROVISIONING;
        t.desiredStatus = TaskStatus.RUNNING;
        t.healthStatus = Task.UNKNOWN;
        t.cpu = td.cpu();
        t.memory = td.memory();
        t.hostPorts = new ArrayList<>(td.fixedHostPorts());
        t.placementStrategy = new ArrayList<>(strategies);
        t.placementConstraints = new ArrayList<>(constraints);
        t.createdAt = now;
        for (ContainerDefinition c : td.containerDefinitions()) {
            t.containers.add(new TaskContainer(c.name(), images.getOrDefault(c.name(), c.image()), "PENDING", null, null,
                    c.healthCheck() == null ? null : Task.UNKNOWN, List.of()));
        }
        t.version = 1;
        return t;
    }

    static void assign(Task t, String node) {
        t.containerInstanceArn = node;
        t.lastStatus = TaskStatus.PENDING;
        t.pendingReason = null;
        t.version++;
    }

    static TaskRequirements requirements(Task t) {
        return new TaskRequirements(t.group, t.cpu, t.memory, t.hostPorts, t.placementStrategy, t.placementConstraints);
    }

    /**
     * Places the cluster's tasks that wait for capacity, oldest first: called whenever capacity may
     * have appeared (a node registered or came back, a task released its resources) and after new
     * tasks were created. Returns how many were placed.
     */
    static int placePending(ControlPlaneState state, Changes changes, String cluster, Random random) {
        List<Task> waiting = new ArrayList<>();
        for (Task t : state.tasks()) {
            if (t.cluster.equals(cluster) && !t.placed() && t.desiredStatus == TaskStatus.RUNNING
                    && t.lastStatus.before(TaskStatus.RUNNING)) {
                waiting.add(t);
            }
        }
        if (waiting.isEmpty()) {
            return 0;
        }
        waiting.sort(Comparator.comparing((Task t) -> t.createdAt).thenComparing(t -> t.taskArn));
        List<Scheduler.Outcome> outcomes = Scheduler.placeEach(snapshot(state, cluster),
                waiting.stream().map(Placements::requirements).toList(), random);
        int placed = 0;
        for (int i = 0; i < waiting.size(); i++) {
            Task t = waiting.get(i);
            Scheduler.Outcome o = outcomes.get(i);
            if (o.node() != null) {
                assign(t, o.node());
                state.putTask(changes, t);
                placed++;
            } else if (!o.reason().equals(t.pendingReason) || t.lastStatus != TaskStatus.PENDING) {
                t.lastStatus = TaskStatus.PENDING;
                t.pendingReason = o.reason();
                state.putTask(changes, t);
            }
        }
        return placed;
    }

    /** The cluster's nodes with what their live tasks leave free; tasks going away still hold resources. */
    static ClusterSnapshot snapshot(ControlPlaneState state, String cluster) {
        Map<String, int[]> used = new HashMap<>();
        Map<String, Set<String>> ports = new HashMap<>();
        Map<String, Map<String, Integer>> groups = new HashMap<>();
        for (Task t : state.tasks()) {
            if (!t.cluster.equals(cluster) || !t.holdsResources()) {
                continue;
            }
            int[] u = used.computeIfAbsent(t.containerInstanceArn, k -> new int[2]);
            u[0] += t.cpu;
            u[1] += t.memory;
            ports.computeIfAbsent(t.containerInstanceArn, k -> new HashSet<>()).addAll(t.hostPorts);
            if (t.desiredStatus == TaskStatus.RUNNING) {
                groups.computeIfAbsent(t.containerInstanceArn, k -> new HashMap<>()).merge(t.group, 1, Integer::sum);
            }
        }
        List<NodeSnapshot> nodes = new ArrayList<>();
        for (Node n : state.nodes(cluster)) {
            int[] u = used.getOrDefault(n.id(), new int[2]);
            Set<String> p = new HashSet<>(n.registeredResources().ports());
            p.addAll(ports.getOrDefault(n.id(), Set.of()));
            Map<String, String> attributes = new HashMap<>();
            n.attributes().forEach(a -> attributes.put(a.name(), a.value() == null ? "" : a.value()));
            nodes.add(new NodeSnapshot(n.id(), n.hostname(), n.status().equals(Node.ACTIVE), n.agentConnected(),
                    n.registeredResources().cpu() - u[0], n.registeredResources().memory() - u[1], p, attributes,
                    groups.getOrDefault(n.id(), Map.of())));
        }
        return new ClusterSnapshot(cluster, nodes);
    }
}
