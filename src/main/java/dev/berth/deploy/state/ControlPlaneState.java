package dev.berth.deploy.state;

import dev.berth.deploy.model.Cluster;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.JoinToken;
import dev.berth.deploy.model.Node;
import dev.berth.deploy.model.Service;
import dev.berth.deploy.model.Task;
import dev.berth.deploy.model.TaskDefinition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Everything the controller knows, in memory, as loaded from {@code cp_object} and kept in step with
 * it: each {@code put}/{@code remove} changes the map and records the write in the command's
 * {@link Changes}. Only the state machine's context touches it.
 */
public final class ControlPlaneState {
    static final String CLUSTER = "cluster";
    static final String TASK_DEFINITION = "taskdef";
    static final String NODE = "node";
    static final String TASK = "task";
    static final String SERVICE = "service";
    static final String JOIN_TOKEN = "jointoken";

    private final Map<String, Cluster> clusters = new TreeMap<>();
    private final Map<String, NavigableMap<Integer, TaskDefinition>> taskDefinitions = new TreeMap<>();
    private final Map<String, Node> nodes = new TreeMap<>();
    private final Map<String, Task> tasks = new LinkedHashMap<>();
    private final Map<String, Service> services = new TreeMap<>();
    private final Map<String, JoinToken> joinTokens = new TreeMap<>();
    /**
     * Repositories some ACTIVE service follows with autoDeploy, derived from the services on every
     * change of one: read from request threads (whether a push is worth recording), hence volatile
     * and replaced whole.
     */
    private volatile java.util.Set<String> followed = java.util.Set.of();
    /** Tasks not yet STOPPED, by cluster and group: what a service's reconciliation looks at. */
    private final Map<String, Map<String, Task>> liveByGroup = new java.util.HashMap<>();

    /** Reads every document; creates the {@code default} cluster when missing. */
    static ControlPlaneState load(Connection c, Instant now) throws SQLException {
        ControlPlaneState s = new ControlPlaneState();
        try (PreparedStatement p = c.prepareStatement("SELECT kind, id, doc FROM cp_object ORDER BY kind, rowid");
             ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                String kind = rs.getString(1);
                String doc = rs.getString(3);
                try {
                    switch (kind) {
                        case CLUSTER -> {
                            Cluster cl = DeployJson.MAPPER.readValue(doc, Cluster.class);
                            s.clusters.put(cl.clusterName(), cl);
                        }
                        case TASK_DEFINITION -> {
                            TaskDefinition td = DeployJson.MAPPER.readValue(doc, TaskDefinition.class);
                            s.taskDefinitions.computeIfAbsent(td.family(), f -> new TreeMap<>()).put(td.revision(), td);
                        }
                        case NODE -> {
                            Node n = DeployJson.MAPPER.readValue(doc, Node.class);
                            s.nodes.put(n.id(), n);
                        }
                        case TASK -> {
                            Task t = DeployJson.MAPPER.readValue(doc, Task.class);
                            s.tasks.put(t.taskArn, t);
                            s.index(t);
                        }
                        case JOIN_TOKEN -> {
                            JoinToken jt = DeployJson.MAPPER.readValue(doc, JoinToken.class);
                            s.joinTokens.put(jt.id(), jt);
                        }
                        case SERVICE -> {
                            Service sv = DeployJson.MAPPER.readValue(doc, Service.class);
                            s.services.put(sv.serviceArn, sv);
                        }
                        default -> {
                            // A kind from a newer Berth: left alone.
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new SQLException("unreadable " + kind + " document " + rs.getString(2) + ": " + e.getMessage(), e);
                }
            }
        }
        s.refreshFollowed();
        if (!s.clusters.containsKey(Cluster.DEFAULT)) {
            Changes changes = new Changes();
            s.putCluster(changes, Cluster.create(Cluster.DEFAULT, now));
            changes.write(c, now.toEpochMilli());
        }
        return s;
    }

    // -- clusters

    public Cluster cluster(String name) {
        return clusters.get(name);
    }

    public Collection<Cluster> clusters() {
        return clusters.values();
    }

    public void putCluster(Changes changes, Cluster cluster) {
        clusters.put(cluster.clusterName(), cluster);
        changes.put(CLUSTER, cluster.clusterName(), cluster);
    }

    public void removeCluster(Changes changes, String name) {
        clusters.remove(name);
        changes.delete(CLUSTER, name);
    }

    // -- task definitions

    public NavigableMap<Integer, TaskDefinition> revisions(String family) {
        NavigableMap<Integer, TaskDefinition> r = taskDefinitions.get(family);
        return r == null ? new TreeMap<>() : r;
    }

    public Map<String, NavigableMap<Integer, TaskDefinition>> taskDefinitions() {
        return taskDefinitions;
    }

    public void putTaskDefinition(Changes changes, TaskDefinition td) {
        taskDefinitions.computeIfAbsent(td.family(), f -> new TreeMap<>()).put(td.revision(), td);
        changes.put(TASK_DEFINITION, td.key(), td);
    }

    // -- nodes

    public Node node(String id) {
        return nodes.get(id);
    }

    public Collection<Node> nodes() {
        return nodes.values();
    }

    public List<Node> nodes(String cluster) {
        return nodes.values().stream().filter(n -> n.cluster().equals(cluster)).toList();
    }

    public void putNode(Changes changes, Node node) {
        nodes.put(node.id(), node);
        changes.touchNode(node.id());
        changes.put(NODE, node.id(), node);
    }

    /**
     * Replaces a node in memory only: for heartbeats, which would otherwise cost a write each. The
     * next real change of the node persists the newest heartbeat with it; a restarted controller
     * gives every node a fresh grace period anyway.
     */
    public void refreshNode(Node node) {
        nodes.put(node.id(), node);
    }

    public void removeNode(Changes changes, String id) {
        nodes.remove(id);
        changes.delete(NODE, id);
    }

    // -- tasks

    public Task task(String id) {
        return tasks.get(id);
    }

    public Collection<Task> tasks() {
        return tasks.values();
    }

    /** Records a new or changed task; call it after every change to a task. */
    public void putTask(Changes changes, Task task) {
        tasks.put(task.taskArn, task);
        index(task);
        changes.touchNode(task.containerInstanceArn);
        changes.put(TASK, task.taskArn, task);
    }

    public void removeTask(Changes changes, String id) {
        Task t = tasks.remove(id);
        if (t != null) {
            Map<String, Task> group = liveByGroup.get(groupKey(t.cluster, t.group));
            if (group != null) {
                group.remove(id);
            }
        }
        changes.delete(TASK, id);
    }

    /** The tasks of {@code group} in {@code cluster} that are not STOPPED, oldest first. */
    public Collection<Task> liveTasks(String cluster, String group) {
        Map<String, Task> g = liveByGroup.get(groupKey(cluster, group));
        return g == null ? List.of() : g.values();
    }

    private void index(Task t) {
        String key = groupKey(t.cluster, t.group);
        if (t.lastStatus != dev.berth.deploy.model.TaskStatus.STOPPED) {
            liveByGroup.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(t.taskArn, t);
        } else {
            Map<String, Task> g = liveByGroup.get(key);
            if (g != null && g.remove(t.taskArn) != null && g.isEmpty()) {
                liveByGroup.remove(key);
            }
        }
    }

    private static String groupKey(String cluster, String group) {
        return cluster + "\0" + group;
    }

    // -- join tokens

    public JoinToken joinToken(String id) {
        return joinTokens.get(id);
    }

    public Collection<JoinToken> joinTokens() {
        return joinTokens.values();
    }

    public void putJoinToken(Changes changes, JoinToken token) {
        joinTokens.put(token.id(), token);
        changes.put(JOIN_TOKEN, token.id(), token);
    }

    public void removeJoinToken(Changes changes, String id) {
        joinTokens.remove(id);
        changes.delete(JOIN_TOKEN, id);
    }

    // -- services

    /** The service {@code name} of {@code cluster}, whatever its status, or null. */
    public Service service(String cluster, String name) {
        return services.get(Service.arn(cluster, name));
    }

    public Collection<Service> services() {
        return services.values();
    }

    /** Records a new or changed service; call it after every change to a service. */
    public void putService(Changes changes, Service service) {
        services.put(service.serviceArn, service);
        changes.put(SERVICE, service.serviceArn, service);
        refreshFollowed();
    }

    public void removeService(Changes changes, String arn) {
        services.remove(arn);
        changes.delete(SERVICE, arn);
        refreshFollowed();
    }

    /** Whether an ACTIVE service follows pushes to {@code repository}. Safe from any thread. */
    public boolean follows(String repository) {
        return followed.contains(repository);
    }

    private void refreshFollowed() {
        java.util.Set<String> now = new java.util.HashSet<>();
        for (Service s : services.values()) {
            if (s.autoDeploy != null && Service.ACTIVE.equals(s.status)) {
                now.add(s.autoDeploy.repository());
            }
        }
        if (!now.equals(followed)) {
            followed = java.util.Set.copyOf(now);
        }
    }
}
