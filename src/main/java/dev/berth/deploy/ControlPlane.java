package dev.berth.deploy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.db.Database;
import dev.berth.deploy.model.Attribute;
import dev.berth.deploy.model.Cluster;
import dev.berth.deploy.model.ControlPlaneException;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.model.ImageReference;
import dev.berth.deploy.model.JoinToken;
import dev.berth.deploy.model.Service;
import dev.berth.deploy.model.Node;
import dev.berth.deploy.model.PlacementConstraint;
import dev.berth.deploy.model.PlacementStrategy;
import dev.berth.deploy.model.RegisterTaskDefinitionRequest;
import dev.berth.deploy.model.Requests;
import dev.berth.deploy.model.Resources;
import dev.berth.deploy.model.Task;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.deploy.model.TaskStatus;
import dev.berth.deploy.scheduler.ClusterSnapshot;
import dev.berth.deploy.scheduler.Placement;
import dev.berth.deploy.scheduler.Scheduler;
import dev.berth.deploy.scheduler.TaskRequirements;
import dev.berth.deploy.state.Changes;
import dev.berth.deploy.state.ControlPlaneState;
import dev.berth.deploy.state.StateMachine;
import dev.berth.deploy.trigger.Push;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * The control plane's actions, named and shaped after the ECS API. Each action reads its request,
 * runs as one command on the {@link StateMachine} and answers with a JSON document that is a copy
 * of the state (safe to hand to any thread), once its changes are durable.
 */
public final class ControlPlane {
    private static final SecureRandom IDS = new SecureRandom();

    private final StateMachine machine;
    private final Random random;
    private final ImageResolver resolver;
    private final Services services;
    private final Map<String, Action> actions = new LinkedHashMap<>();

    /** One API action: reads its request body and runs. */
    @FunctionalInterface
    public interface Action {
        Future<ObjectNode> call(String body);
    }

    private ControlPlane(StateMachine machine, Random random, ImageResolver resolver) {
        this.machine = machine;
        this.random = random;
        this.resolver = resolver;
        this.services = new Services(random, resolver);
        this.startedAt = machine.clock().instant();
        machine.onReloaded(() -> startedAt = machine.clock().instant());
        action("CreateCluster", Requests.CreateCluster.class, this::createCluster);
        action("DescribeClusters", Requests.DescribeClusters.class, this::describeClusters);
        action("ListClusters", Requests.ListClusters.class, this::listClusters);
        action("DeleteCluster", Requests.DeleteCluster.class, this::deleteCluster);
        action("RegisterTaskDefinition", RegisterTaskDefinitionRequest.class, this::registerTaskDefinition);
        action("DeregisterTaskDefinition", Requests.DeregisterTaskDefinition.class, this::deregisterTaskDefinition);
        action("DescribeTaskDefinition", Requests.DescribeTaskDefinition.class, this::describeTaskDefinition);
        action("ListTaskDefinitions", Requests.ListTaskDefinitions.class, this::listTaskDefinitions);
        action("ListTaskDefinitionFamilies", Requests.ListTaskDefinitionFamilies.class, this::listTaskDefinitionFamilies);
        action("RegisterContainerInstance", Requests.RegisterContainerInstance.class, this::registerContainerInstance);
        action("CreateJoinToken", Requests.CreateJoinToken.class, this::createJoinToken);
        action("DeregisterContainerInstance", Requests.DeregisterContainerInstance.class, this::deregisterContainerInstance);
        action("ListContainerInstances", Requests.ListContainerInstances.class, this::listContainerInstances);
        action("DescribeContainerInstances", Requests.DescribeContainerInstances.class, this::describeContainerInstances);
        action("UpdateContainerInstancesState", Requests.UpdateContainerInstancesState.class,
                this::updateContainerInstancesState);
        action("RunTask", Requests.RunTask.class, this::runTask);
        action("StartTask", Requests.StartTask.class, this::startTask);
        action("StopTask", Requests.StopTask.class, this::stopTask);
        action("ListTasks", Requests.ListTasks.class, this::listTasks);
        action("DescribeTasks", Requests.DescribeTasks.class, this::describeTasks);
        action("SubmitTaskStateChange", Requests.SubmitTaskStateChange.class, this::submitTaskStateChange);
        action("SubmitHeartbeat", Requests.SubmitHeartbeat.class, this::submitHeartbeat);
        pinningAction("CreateService", Requests.CreateService.class, (state, r) -> r.taskDefinition(),
                (r, pinned) -> (state, changes) -> services.create(state, changes, r, pinned, now()));
        pinningAction("UpdateService", Requests.UpdateService.class, Services::definitionToPin,
                (r, pinned) -> (state, changes) -> services.update(state, changes, r, pinned, now()));
        action("DeleteService", Requests.DeleteService.class,
                r -> (state, changes) -> services.delete(state, changes, r, now()));
        action("DescribeServices", Requests.DescribeServices.class, r -> (state, changes) -> services.describeAll(state, r));
        action("ListServices", Requests.ListServices.class, r -> (state, changes) -> services.list(state, r));
        action("ListServiceEvents", Requests.ListServiceEvents.class, r -> (state, changes) -> services.events(state, r));
    }

    public static Future<ControlPlane> start(Vertx vertx, Database database, Clock clock, Random random,
                                             ImageResolver resolver) {
        return StateMachine.start(vertx, database, clock).map(m -> new ControlPlane(m, random, resolver));
    }

    /**
     * An action that deploys images: it first finds the task definition the request would deploy
     * ({@code definition}, null for none), resolves that definition's tags to digests outside the
     * state machine (registry lookups are I/O), then runs the command with the pinned images.
     */
    private <R> void pinningAction(String name, Class<R> type, java.util.function.BiFunction<ControlPlaneState, R, String> definition,
                                   java.util.function.BiFunction<R, Pinned, StateMachine.Command<ObjectNode>> command) {
        actions.put(name, body -> {
            R request;
            try {
                request = DeployJson.readRequest(body, type);
            } catch (FieldException e) {
                return Future.failedFuture(e);
            }
            return pinAndRun(request, definition, command, 3);
        });
    }

    /**
     * Pins the images of the revision the request means, then runs the command with them. A command
     * answers null when, by the time it ran, the request meant another revision (one was registered
     * meanwhile): then it is all done again, a few times at most.
     */
    private <R> Future<ObjectNode> pinAndRun(R request, java.util.function.BiFunction<ControlPlaneState, R, String> definition,
                                             java.util.function.BiFunction<R, Pinned, StateMachine.Command<ObjectNode>> command,
                                             int attempts) {
        return machine.execute((state, changes) -> {
            String ref = definition.apply(state, request);
            if (ref == null) {
                return null;
            }
            try {
                return taskDefinition(state, ref, false);
            } catch (FieldException | ControlPlaneException e) {
                return null; // the command itself reports it, with the right field
            }
        }).compose(this::pin).compose(pinned -> machine.execute(command.apply(request, pinned))).compose(answer -> {
            if (answer != null) {
                return Future.succeededFuture(answer);
            }
            if (attempts <= 1) {
                return Future.failedFuture(new ControlPlaneException(409, "ConcurrentModificationException",
                        "the task definition changed while its images were being resolved; try again", "taskDefinition"));
            }
            return pinAndRun(request, definition, command, attempts - 1);
        });
    }

    /** Container name to image pinned by digest, for the containers whose tag Berth can resolve. */
    private Future<Pinned> pin(TaskDefinition td) {
        if (td == null) {
            return Future.succeededFuture(Pinned.NONE);
        }
        Map<String, String> pinned = new java.util.concurrent.ConcurrentHashMap<>();
        List<Future<?>> lookups = new ArrayList<>();
        for (var c : td.containerDefinitions()) {
            ImageReference image = ImageReference.parse(c.image());
            if (image.digest() != null) {
                continue;
            }
            lookups.add(resolver.resolve(image).otherwiseEmpty().onSuccess(digest -> {
                if (digest != null) {
                    pinned.put(c.name(), image.pinned(dev.berth.digest.Digest.parse(digest)).toString());
                }
            }));
        }
        return Future.join(lookups).otherwiseEmpty().map(v -> new Pinned(td.key(), Map.copyOf(pinned)));
    }

    private <R> void action(String name, Class<R> type, Function<R, StateMachine.Command<ObjectNode>> command) {
        actions.put(name, body -> {
            R request;
            try {
                request = DeployJson.readRequest(body, type);
            } catch (FieldException e) {
                return Future.failedFuture(e);
            }
            return machine.execute(command.apply(request));
        });
    }

    /** The action called {@code name}, or null. */
    public Action action(String name) {
        return actions.get(name);
    }

    public Set<String> actionNames() {
        return actions.keySet();
    }

    /** Runs {@code action} with a request object (tests and in-process callers). */
    public Future<ObjectNode> call(String action, Object request) {
        Action a = actions.get(action);
        if (a == null) {
            return Future.failedFuture(new IllegalArgumentException("no action " + action));
        }
        try {
            return a.call(DeployJson.MAPPER.writeValueAsString(request));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Future.failedFuture(e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Clusters

    private StateMachine.Command<ObjectNode> createCluster(Requests.CreateCluster r) {
        return (state, changes) -> {
            String name = Cluster.checkName("clusterName", r.clusterName());
            Cluster cluster = state.cluster(name);
            if (cluster == null) {
                cluster = Cluster.create(name, now());
                state.putCluster(changes, cluster);
            }
            // Like ECS: creating an existing cluster answers it, unchanged.
            return object().set("cluster", describe(state, cluster));
        };
    }

    private StateMachine.Command<ObjectNode> describeClusters(Requests.DescribeClusters r) {
        return (state, changes) -> {
            List<String> names = r.clusters() == null || r.clusters().isEmpty() ? List.of(Cluster.DEFAULT) : r.clusters();
            if (names.size() > 100) {
                throw new FieldException("clusters", "clusters takes at most 100 names");
            }
            return describedOrMissing("clusters", names, n -> {
                Cluster c = n == null ? null : state.cluster(n);
                return c == null ? null : describe(state, c);
            });
        };
    }

    private StateMachine.Command<ObjectNode> listClusters(Requests.ListClusters r) {
        return (state, changes) -> {
            Paging<Cluster> page = Paging.of(List.copyOf(state.clusters()), Cluster::clusterName, r.maxResults(), r.nextToken());
            ArrayNode names = array();
            page.items().forEach(c -> names.add(c.clusterName()));
            return paged(object().set("clusterArns", names), page);
        };
    }

    private StateMachine.Command<ObjectNode> deleteCluster(Requests.DeleteCluster r) {
        return (state, changes) -> {
            Cluster c = cluster(state, "cluster", Check.required("cluster", r.cluster()));
            if (c.clusterName().equals(Cluster.DEFAULT)) {
                throw new ControlPlaneException(400, "ClientException", "the default cluster always exists", "cluster");
            }
            if (!state.nodes(c.clusterName()).isEmpty()) {
                throw ControlPlaneException.conflict("ClusterContainsContainerInstancesException", "cluster",
                        "cluster " + c.clusterName() + " still has nodes; deregister them first");
            }
            if (state.services().stream().anyMatch(sv -> sv.cluster.equals(c.clusterName())
                    && !Service.INACTIVE.equals(sv.status))) {
                throw ControlPlaneException.conflict("ClusterContainsServicesException", "cluster",
                        "cluster " + c.clusterName() + " still has services; delete them first");
            }
            boolean liveTasks = state.tasks().stream()
                    .anyMatch(t -> t.cluster.equals(c.clusterName()) && t.lastStatus != TaskStatus.STOPPED);
            if (liveTasks) {
                throw ControlPlaneException.conflict("ClusterContainsTasksException", "cluster",
                        "cluster " + c.clusterName() + " still has tasks that are not STOPPED");
            }
            ObjectNode described = describe(state, c);
            for (Task t : List.copyOf(state.tasks())) {
                if (t.cluster.equals(c.clusterName())) {
                    state.removeTask(changes, t.taskArn);
                }
            }
            for (Service sv : List.copyOf(state.services())) {
                if (sv.cluster.equals(c.clusterName())) {
                    state.removeService(changes, sv.serviceArn);
                }
            }
            for (JoinToken jt : List.copyOf(state.joinTokens())) {
                if (jt.cluster().equals(c.clusterName())) {
                    state.removeJoinToken(changes, jt.id());
                }
            }
            state.removeCluster(changes, c.clusterName());
            described.put("status", "INACTIVE");
            return object().set("cluster", described);
        };
    }

    private ObjectNode describe(ControlPlaneState state, Cluster c) {
        ObjectNode n = DeployJson.MAPPER.valueToTree(c);
        n.put("clusterArn", c.clusterName());
        int running = 0;
        int pending = 0;
        for (Task t : state.tasks()) {
            if (t.cluster.equals(c.clusterName())) {
                if (t.lastStatus == TaskStatus.RUNNING) {
                    running++;
                } else if (t.lastStatus.before(TaskStatus.RUNNING)) {
                    pending++;
                }
            }
        }
        n.put("registeredContainerInstancesCount", state.nodes(c.clusterName()).size());
        n.put("runningTasksCount", running);
        n.put("pendingTasksCount", pending);
        return n;
    }

    // ------------------------------------------------------------------------------------------
    // Task definitions

    private StateMachine.Command<ObjectNode> registerTaskDefinition(RegisterTaskDefinitionRequest r) {
        return (state, changes) -> {
            String family = r.family();
            NavigableMap<Integer, TaskDefinition> revisions = family == null ? null : state.revisions(family);
            int revision = revisions == null || revisions.isEmpty() ? 1 : revisions.lastKey() + 1;
            TaskDefinition td = TaskDefinition.register(r, revision, now());
            state.putTaskDefinition(changes, td);
            return object().set("taskDefinition", DeployJson.MAPPER.valueToTree(td));
        };
    }

    private StateMachine.Command<ObjectNode> deregisterTaskDefinition(Requests.DeregisterTaskDefinition r) {
        return (state, changes) -> {
            String ref = Check.required("taskDefinition", r.taskDefinition());
            if (!ref.contains(":")) {
                throw new FieldException("taskDefinition", "taskDefinition must name a revision (family:revision)");
            }
            TaskDefinition td = taskDefinition(state, ref, false);
            if (td.active()) {
                td = td.deregistered(now());
                state.putTaskDefinition(changes, td);
            }
            return object().set("taskDefinition", DeployJson.MAPPER.valueToTree(td));
        };
    }

    private StateMachine.Command<ObjectNode> describeTaskDefinition(Requests.DescribeTaskDefinition r) {
        return (state, changes) -> {
            TaskDefinition td = taskDefinition(state, Check.required("taskDefinition", r.taskDefinition()), false);
            return object().set("taskDefinition", DeployJson.MAPPER.valueToTree(td));
        };
    }

    private StateMachine.Command<ObjectNode> listTaskDefinitions(Requests.ListTaskDefinitions r) {
        return (state, changes) -> {
            String status = definitionStatus(r.status());
            String sort = r.sort() == null ? "ASC" : r.sort();
            if (!sort.equals("ASC") && !sort.equals("DESC")) {
                throw new FieldException("sort", "sort must be ASC or DESC");
            }
            List<TaskDefinition> all = new ArrayList<>();
            for (NavigableMap<Integer, TaskDefinition> revisions : state.taskDefinitions().values()) {
                for (TaskDefinition td : revisions.values()) {
                    if ((r.familyPrefix() == null || td.family().startsWith(r.familyPrefix()))
                            && (status == null || td.status().equals(status))) {
                        all.add(td);
                    }
                }
            }
            // Sort keys that order as text: family, then the revision zero-padded.
            Function<TaskDefinition, String> key = td -> td.family() + "\0" + String.format("%010d", td.revision());
            all.sort(Comparator.comparing(key));
            List<TaskDefinition> ordered = all;
            Function<TaskDefinition, String> pageKey = key;
            if (sort.equals("DESC")) {
                ordered = new ArrayList<>(all);
                java.util.Collections.reverse(ordered);
                // Descending: page on the inverted key so that "after" still means "later in the list".
                pageKey = td -> invert(key.apply(td));
            }
            Paging<TaskDefinition> page = Paging.of(ordered, pageKey, r.maxResults(), r.nextToken());
            ArrayNode arns = array();
            page.items().forEach(td -> arns.add(td.key()));
            return paged(object().set("taskDefinitionArns", arns), page);
        };
    }

    private StateMachine.Command<ObjectNode> listTaskDefinitionFamilies(Requests.ListTaskDefinitionFamilies r) {
        return (state, changes) -> {
            String status = r.status() == null ? "ACTIVE" : r.status().equals("ALL") ? null : definitionStatus(r.status());
            List<String> families = new ArrayList<>();
            state.taskDefinitions().forEach((family, revisions) -> {
                boolean wanted = status == null || revisions.values().stream().anyMatch(td -> td.status().equals(status));
                if (wanted && (r.familyPrefix() == null || family.startsWith(r.familyPrefix()))) {
                    families.add(family);
                }
            });
            Paging<String> page = Paging.of(families, f -> f, r.maxResults(), r.nextToken());
            ArrayNode names = array();
            page.items().forEach(names::add);
            return paged(object().set("families", names), page);
        };
    }

    private static String definitionStatus(String status) {
        if (status == null) {
            return null;
        }
        if (!status.equals(TaskDefinition.ACTIVE) && !status.equals(TaskDefinition.INACTIVE)) {
            throw new FieldException("status", "status must be ACTIVE or INACTIVE");
        }
        return status;
    }

    private static String invert(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append((char) (Character.MAX_VALUE - c));
        }
        return b.toString();
    }

    /**
     * {@code family:revision}, or {@code family} alone for its latest ACTIVE revision. With
     * {@code mustBeActive}, an INACTIVE revision is refused (no new tasks or services on it).
     */
    static TaskDefinition taskDefinition(ControlPlaneState state, String ref, boolean mustBeActive) {
        int colon = ref.lastIndexOf(':');
        String family = colon < 0 ? ref : ref.substring(0, colon);
        NavigableMap<Integer, TaskDefinition> revisions = state.revisions(family);
        TaskDefinition td;
        if (colon < 0) {
            td = revisions.descendingMap().values().stream().filter(TaskDefinition::active).findFirst().orElse(null);
            if (td == null) {
                throw ControlPlaneException.notFound("TaskDefinitionNotFoundException", "taskDefinition",
                        "no ACTIVE revision of task definition family " + shorten(family));
            }
        } else {
            int revision;
            try {
                revision = Integer.parseInt(ref.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new FieldException("taskDefinition", "taskDefinition must be family or family:revision");
            }
            td = revisions.get(revision);
            if (td == null) {
                throw ControlPlaneException.notFound("TaskDefinitionNotFoundException", "taskDefinition",
                        "no task definition " + shorten(ref));
            }
        }
        if (mustBeActive && !td.active()) {
            throw new ControlPlaneException(400, "ClientException", "task definition " + td.key()
                    + " is INACTIVE; new tasks need an ACTIVE revision", "taskDefinition");
        }
        return td;
    }

    // ------------------------------------------------------------------------------------------
    // Nodes (container instances)

    private StateMachine.Command<ObjectNode> registerContainerInstance(Requests.RegisterContainerInstance r) {
        return (state, changes) -> {
            Cluster cluster = r.joinToken() == null ? cluster(state, "cluster", r.cluster()) : joinedCluster(state, r);
            Resources total = Check.required("totalResources", r.totalResources());
            if (total.cpu() < 0 || total.cpu() > 1_048_576) {
                throw new FieldException("totalResources.cpu", "totalResources.cpu must be between 0 and 1048576");
            }
            if (total.memory() < MIN_NODE_MEMORY_MIB || total.memory() > 1 << 30) {
                throw new FieldException("totalResources.memory", "totalResources.memory (MiB) must be at least "
                        + MIN_NODE_MEMORY_MIB);
            }
            List<String> ports = new ArrayList<>();
            for (int i = 0; i < total.ports().size(); i++) {
                ports.add(portKey("totalResources.ports[" + i + "]", total.ports().get(i)));
            }
            List<Attribute> attributes = new ArrayList<>();
            Set<String> names = new HashSet<>();
            List<Attribute> given = r.attributes() == null ? List.of() : r.attributes();
            for (int i = 0; i < given.size(); i++) {
                Attribute a = Check.required("attributes[" + i + "]", given.get(i)).normalize("attributes[" + i + "]");
                if (!names.add(a.name())) {
                    throw new FieldException("attributes[" + i + "].name", "attribute " + a.name() + " is given twice");
                }
                attributes.add(a);
            }
            String hostname = r.hostname() == null ? "" : r.hostname();
            if (hostname.length() > 253) {
                throw new FieldException("hostname", "hostname is longer than 253 characters");
            }
            if (r.joinToken() != null) {
                // Every check passed: only now is one of the token's uses spent.
                spendJoinToken(state, changes, r.joinToken());
            }
            Instant now = now();
            String agentToken = newId() + newId();
            Node node = new Node(newId(), cluster.clusterName(), hostname, Node.ACTIVE, true,
                    new Resources(total.cpu(), total.memory(), ports), List.copyOf(attributes),
                    r.agentVersion(), now, now, sha256(agentToken));
            state.putNode(changes, node);
            Placements.placePending(state, changes, cluster.clusterName(), random);
            reconcileCluster(state, changes, cluster.clusterName());
            // The agent's credential for its session: shown once, kept as a hash.
            ObjectNode answer = object();
            answer.set("containerInstance", describe(state, node));
            answer.put("agentToken", node.id() + "." + agentToken);
            return answer;
        };
    }

    private StateMachine.Command<ObjectNode> createJoinToken(Requests.CreateJoinToken r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            int seconds = r.expiresInSeconds() == null ? 86_400 : r.expiresInSeconds();
            if (seconds < 60 || seconds > 31_536_000) {
                throw new FieldException("expiresInSeconds", "expiresInSeconds must be between 60 and 31536000");
            }
            int uses = r.uses() == null ? 1 : r.uses();
            if (uses < 1 || uses > 10_000) {
                throw new FieldException("uses", "uses must be between 1 and 10000");
            }
            Instant now = now();
            String id = newId().substring(0, 12);
            String secret = newId() + newId();
            JoinToken token = new JoinToken(id, cluster.clusterName(), sha256(secret), now, now.plusSeconds(seconds), uses);
            // Expired tokens are dropped whenever a new one is made.
            for (JoinToken old : List.copyOf(state.joinTokens())) {
                if (old.expiresAt().isBefore(now)) {
                    state.removeJoinToken(changes, old.id());
                }
            }
            state.putJoinToken(changes, token);
            return object().put("joinToken", "bjt." + id + "." + secret).put("cluster", cluster.clusterName())
                    .put("expiresAt", token.expiresAt().toString()).put("uses", uses);
        };
    }

    /** The cluster a valid, unexpired join token names; anything else is refused alike. */
    private Cluster joinedCluster(ControlPlaneState state, Requests.RegisterContainerInstance r) {
        String[] parts = r.joinToken().split("\\.", -1);
        JoinToken token = parts.length == 3 && parts[0].equals("bjt") ? state.joinToken(parts[1]) : null;
        if (token == null || !java.security.MessageDigest.isEqual(token.secretSha256().getBytes(StandardCharsets.US_ASCII),
                sha256(parts[2]).getBytes(StandardCharsets.US_ASCII)) || !now().isBefore(token.expiresAt())) {
            throw new ControlPlaneException(401, "InvalidJoinTokenException", "the join token is unknown, wrong or expired",
                    "joinToken");
        }
        if (r.cluster() != null && !r.cluster().equals(token.cluster())) {
            throw new FieldException("cluster", "the join token is for cluster " + token.cluster() + ", not " + r.cluster());
        }
        Cluster cluster = state.cluster(token.cluster());
        if (cluster == null) {
            throw new ControlPlaneException(401, "InvalidJoinTokenException", "the join token's cluster no longer exists",
                    "joinToken");
        }
        return cluster;
    }

    /** Uses up one use of a join token that {@link #joinedCluster} accepted; the last one deletes it. */
    private void spendJoinToken(ControlPlaneState state, Changes changes, String joinToken) {
        JoinToken token = state.joinToken(joinToken.split("\\.", -1)[1]);
        if (token.usesLeft() <= 1) {
            state.removeJoinToken(changes, token.id());
        } else {
            state.putJoinToken(changes, new JoinToken(token.id(), token.cluster(), token.secretSha256(), token.createdAt(),
                    token.expiresAt(), token.usesLeft() - 1));
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private StateMachine.Command<ObjectNode> deregisterContainerInstance(Requests.DeregisterContainerInstance r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            Node node = node(state, cluster, "containerInstance", r.containerInstance());
            List<Task> live = state.tasks().stream()
                    .filter(t -> node.id().equals(t.containerInstanceArn) && t.lastStatus != TaskStatus.STOPPED).toList();
            if (!live.isEmpty() && !Boolean.TRUE.equals(r.force())) {
                throw new ControlPlaneException(409, "ClientException", "node " + node.id() + " still has " + live.size()
                        + " task(s); drain it first, or pass force", "containerInstance");
            }
            Instant now = now();
            for (Task t : live) {
                t.requestStop(Task.SERVICE_SCHEDULER_INITIATED, "node " + node.id() + " was deregistered", now);
                t.lastStatus = TaskStatus.STOPPED;
                t.stoppedAt = now;
                state.putTask(changes, t);
            }
            ObjectNode described = describe(state, node);
            described.put("status", "INACTIVE");
            state.removeNode(changes, node.id());
            reconcileCluster(state, changes, cluster.clusterName());
            return object().set("containerInstance", described);
        };
    }

    private StateMachine.Command<ObjectNode> listContainerInstances(Requests.ListContainerInstances r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            if (r.status() != null && !r.status().equals(Node.ACTIVE) && !r.status().equals(Node.DRAINING)) {
                throw new FieldException("status", "status must be ACTIVE or DRAINING");
            }
            List<Node> nodes = state.nodes(cluster.clusterName()).stream()
                    .filter(n -> r.status() == null || n.status().equals(r.status())).toList();
            Paging<Node> page = Paging.of(nodes, Node::id, r.maxResults(), r.nextToken());
            ArrayNode ids = array();
            page.items().forEach(n -> ids.add(n.id()));
            return paged(object().set("containerInstanceArns", ids), page);
        };
    }

    private StateMachine.Command<ObjectNode> describeContainerInstances(Requests.DescribeContainerInstances r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            return describedOrMissing("containerInstances", ids("containerInstances", r.containerInstances()), id -> {
                Node n = state.node(id);
                return n == null || !n.cluster().equals(cluster.clusterName()) ? null : describe(state, n);
            });
        };
    }

    private StateMachine.Command<ObjectNode> updateContainerInstancesState(Requests.UpdateContainerInstancesState r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            List<String> ids = ids("containerInstances", r.containerInstances());
            String status = Check.required("status", r.status());
            if (!status.equals(Node.ACTIVE) && !status.equals(Node.DRAINING)) {
                throw new FieldException("status", "status must be ACTIVE or DRAINING");
            }
            // All or nothing: every node is checked before any changes.
            List<Node> nodes = new ArrayList<>();
            ArrayNode failures = array();
            for (String id : ids) {
                Node n = state.node(id);
                if (n == null || !n.cluster().equals(cluster.clusterName())) {
                    failures.add(object().put("arn", id).put("reason", "MISSING"));
                } else {
                    nodes.add(n);
                }
            }
            ArrayNode updated = array();
            for (Node n : nodes) {
                Node changed = n.status().equals(status) ? n : n.withStatus(status);
                if (changed != n) {
                    state.putNode(changes, changed);
                }
                updated.add(describe(state, changed));
            }
            if (status.equals(Node.ACTIVE)) {
                Placements.placePending(state, changes, cluster.clusterName(), random);
            }
            reconcileCluster(state, changes, cluster.clusterName());
            return answer("containerInstances", updated, failures);
        };
    }

    private ObjectNode describe(ControlPlaneState state, Node n) {
        ObjectNode d = DeployJson.MAPPER.valueToTree(n);
        d.remove("agentTokenSha256");
        int cpu = n.registeredResources().cpu();
        int memory = n.registeredResources().memory();
        Set<String> ports = new java.util.TreeSet<>(n.registeredResources().ports());
        int running = 0;
        int pending = 0;
        for (Task t : state.tasks()) {
            if (n.id().equals(t.containerInstanceArn) && t.holdsResources()) {
                cpu -= t.cpu;
                memory -= t.memory;
                ports.addAll(t.hostPorts);
                if (t.lastStatus == TaskStatus.RUNNING) {
                    running++;
                } else if (t.lastStatus.before(TaskStatus.RUNNING)) {
                    pending++;
                }
            }
        }
        d.set("remainingResources", DeployJson.MAPPER.valueToTree(new Resources(cpu, memory, List.copyOf(ports))));
        // CONNECTED, DISCONNECTED (no new tasks), or LOST (its tasks were given up and replaced).
        Instant last = n.lastHeartbeatAt() == null ? n.registeredAt() : n.lastHeartbeatAt();
        d.put("agentStatus", n.agentConnected() ? "CONNECTED"
                : last.plus(lostAfter).isBefore(now()) ? "LOST" : "DISCONNECTED");
        d.put("runningTasksCount", running);
        d.put("pendingTasksCount", pending);
        return d;
    }

    // ------------------------------------------------------------------------------------------
    // Tasks

    private StateMachine.Command<ObjectNode> runTask(Requests.RunTask r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            TaskDefinition td = taskDefinition(state, Check.required("taskDefinition", r.taskDefinition()), true);
            int count = r.count() == null ? 1 : r.count();
            if (count < 1 || count > 10) {
                throw new FieldException("count", "count must be between 1 and 10");
            }
            String group = group(r.group(), td);
            String startedBy = startedBy(r.startedBy());
            List<PlacementStrategy> strategies = strategies(r.placementStrategy());
            List<PlacementConstraint> constraints = constraints(r.placementConstraints());
            List<Task> created = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                created.add(Placements.newTask(cluster.clusterName(), td, group, startedBy, strategies, constraints, Map.of(), now()));
            }
            TaskRequirements requirements = Placements.requirements(created.get(0));
            Placement placement = Scheduler.place(Placements.snapshot(state, cluster.clusterName()), requirements, count, random);
            ArrayNode tasks = array();
            for (int i = 0; i < count; i++) {
                Task t = created.get(i);
                if (i < placement.nodes().size()) {
                    Placements.assign(t, placement.nodes().get(i));
                } else {
                    t.lastStatus = TaskStatus.PENDING;
                    t.pendingReason = placement.reason();
                }
                state.putTask(changes, t);
                tasks.add(DeployJson.MAPPER.valueToTree(t));
            }
            return answer("tasks", tasks, array());
        };
    }

    private StateMachine.Command<ObjectNode> startTask(Requests.StartTask r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            TaskDefinition td = taskDefinition(state, Check.required("taskDefinition", r.taskDefinition()), true);
            List<String> ids = ids("containerInstances", r.containerInstances());
            if (ids.size() > 10) {
                throw new FieldException("containerInstances", "containerInstances takes at most 10 nodes");
            }
            List<Node> nodes = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                nodes.add(node(state, cluster, "containerInstances[" + i + "]", ids.get(i)));
            }
            String group = group(r.group(), td);
            String startedBy = startedBy(r.startedBy());
            ClusterSnapshot snapshot = Placements.snapshot(state, cluster.clusterName());
            ArrayNode tasks = array();
            ArrayNode failures = array();
            for (Node node : nodes) {
                // The operator chose the node: only whether the task fits there is checked.
                ClusterSnapshot one = new ClusterSnapshot(cluster.clusterName(),
                        snapshot.nodes().stream().filter(n -> n.id().equals(node.id())).toList());
                Task t = Placements.newTask(cluster.clusterName(), td, group, startedBy, List.of(), List.of(), Map.of(), now());
                Placement p = Scheduler.place(one, Placements.requirements(t), 1, random);
                if (p.nodes().isEmpty()) {
                    failures.add(object().put("arn", node.id()).put("reason", p.reason()));
                    continue;
                }
                Placements.assign(t, node.id());
                state.putTask(changes, t);
                tasks.add(DeployJson.MAPPER.valueToTree(t));
                snapshot = Placements.snapshot(state, cluster.clusterName());
            }
            return answer("tasks", tasks, failures);
        };
    }

    private StateMachine.Command<ObjectNode> stopTask(Requests.StopTask r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            Task t = task(state, cluster, "task", r.task());
            String reason = r.reason() == null ? "Task stopped by user" : r.reason();
            if (reason.length() > 1024) {
                throw new FieldException("reason", "reason is longer than 1024 characters");
            }
            if (t.requestStop(Task.USER_INITIATED, reason, now())) {
                state.putTask(changes, t);
                reconcileServiceOf(state, changes, t);
            }
            return object().set("task", DeployJson.MAPPER.valueToTree(t));
        };
    }

    private StateMachine.Command<ObjectNode> listTasks(Requests.ListTasks r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            TaskStatus desired = null;
            if (r.desiredStatus() != null) {
                desired = switch (r.desiredStatus()) {
                    case "RUNNING" -> TaskStatus.RUNNING;
                    case "STOPPED" -> TaskStatus.STOPPED;
                    case "PENDING" -> TaskStatus.PENDING;
                    default -> throw new FieldException("desiredStatus", "desiredStatus must be RUNNING, PENDING or STOPPED");
                };
            }
            if (r.containerInstance() != null) {
                node(state, cluster, "containerInstance", r.containerInstance());
            }
            List<Task> matching = new ArrayList<>();
            for (Task t : state.tasks()) {
                if (!t.cluster.equals(cluster.clusterName())
                        || (r.serviceName() != null && !r.serviceName().equals(t.serviceName))
                        || (r.containerInstance() != null && !r.containerInstance().equals(t.containerInstanceArn))
                        || (r.family() != null && !t.taskDefinitionArn.startsWith(r.family() + ":"))
                        || (r.startedBy() != null && !r.startedBy().equals(t.startedBy))) {
                    continue;
                }
                if (desired == TaskStatus.PENDING ? t.lastStatus.atLeast(TaskStatus.RUNNING) || t.desiredStatus != TaskStatus.RUNNING
                        : desired != null && t.desiredStatus != desired) {
                    continue;
                }
                matching.add(t);
            }
            matching.sort(Comparator.comparing(t -> t.taskArn));
            Paging<Task> page = Paging.of(matching, t -> t.taskArn, r.maxResults(), r.nextToken());
            ArrayNode ids = array();
            page.items().forEach(t -> ids.add(t.taskArn));
            return paged(object().set("taskArns", ids), page);
        };
    }

    private StateMachine.Command<ObjectNode> describeTasks(Requests.DescribeTasks r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            return describedOrMissing("tasks", ids("tasks", r.tasks()), id -> {
                Task t = state.task(id);
                return t == null || !t.cluster.equals(cluster.clusterName()) ? null : DeployJson.MAPPER.valueToTree(t);
            });
        };
    }

    private StateMachine.Command<ObjectNode> submitTaskStateChange(Requests.SubmitTaskStateChange r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            Task t = task(state, cluster, "task", r.task());
            report(state, changes, t, r.status(), r.reason(), r.containers(), r.healthStatus());
            return object().set("task", DeployJson.MAPPER.valueToTree(t));
        };
    }

    /** Applies what a node says about one of its tasks (validated first; statuses only move forward). */
    private void report(ControlPlaneState state, Changes changes, Task t, String statusText, String reason,
                        List<Requests.ContainerStateChange> reported, String healthText) {
        TaskStatus status = TaskLifecycle.reportedStatus(statusText);
        List<Requests.ContainerStateChange> containers = reported == null ? List.of() : reported;
        TaskLifecycle.checkContainers(t, containers);
        String health = TaskLifecycle.health("healthStatus", healthText);
        if (reason != null && reason.length() > 1024) {
            throw new FieldException("reason", "reason is longer than 1024 characters");
        }
        boolean wanted = t.desiredStatus == TaskStatus.RUNNING;
        boolean freed = TaskLifecycle.apply(t, status, reason, containers, health, now());
        state.putTask(changes, t);
        if (freed && wanted && t.serviceName != null) {
            // It stopped on its own: a failure of its deployment (circuit breaker).
            Service s = state.service(t.cluster, t.serviceName);
            if (s != null) {
                services.taskFailed(state, changes, s, t, now());
            }
        }
        if (freed) {
            Placements.placePending(state, changes, t.cluster, random);
        }
        reconcileServiceOf(state, changes, t);
    }

    // ------------------------------------------------------------------------------------------
    // Agents: what the agent gateway asks of the control plane

    /** The node an agent token ({@code nodeId.secret}) belongs to; anything else fails with 401. */
    public Future<Node> authenticateAgent(String agentToken) {
        return machine.execute((state, changes) -> {
            int dot = agentToken == null ? -1 : agentToken.indexOf('.');
            Node n = dot <= 0 ? null : state.node(agentToken.substring(0, dot));
            if (n == null || n.agentTokenSha256() == null || !java.security.MessageDigest.isEqual(
                    n.agentTokenSha256().getBytes(StandardCharsets.US_ASCII),
                    sha256(agentToken.substring(dot + 1)).getBytes(StandardCharsets.US_ASCII))) {
                throw new ControlPlaneException(401, "InvalidAgentTokenException", "unknown node or wrong agent token", null);
            }
            return n;
        });
    }

    /**
     * Whether some ACTIVE service follows pushes to {@code repository}: what makes a push worth
     * recording for the deployer. Safe from any thread, never blocks.
     */
    public boolean follows(String repository) {
        return repository != null && machine.followsRepository(repository);
    }

    /** Reloads the whole state from the database, as after a failed command or commit. */
    public Future<Void> reloadState() {
        return machine.reloadNow();
    }

    /** Calls {@code listener} after each commit with the nodes whose tasks changed. */
    public void onNodesChanged(java.util.function.Consumer<java.util.Set<String>> listener) {
        machine.onCommitted(listener);
    }

    /**
     * What node {@code nodeId} should know: every task placed on it that is not STOPPED yet, with
     * its definition and pinned images ({@code seq} is the gateway's, stamped on the snapshot).
     */
    public Future<dev.berth.agent.protocol.Messages.DesiredState> desiredState(String nodeId, long seq) {
        return machine.execute((state, changes) -> {
            List<dev.berth.agent.protocol.Messages.TaskSpec> specs = new ArrayList<>();
            for (Task t : state.tasks()) {
                if (!nodeId.equals(t.containerInstanceArn) || t.lastStatus == TaskStatus.STOPPED) {
                    continue;
                }
                TaskDefinition td = taskDefinition(state, t.taskDefinitionArn, false);
                Map<String, String> images = new java.util.LinkedHashMap<>();
                t.containers.forEach(c -> images.put(c.name(), c.image()));
                specs.add(new dev.berth.agent.protocol.Messages.TaskSpec(t.taskArn, t.desiredStatus.name(), t.version, td,
                        images, t.cluster));
            }
            specs.sort(Comparator.comparing(dev.berth.agent.protocol.Messages.TaskSpec::taskArn));
            return new dev.berth.agent.protocol.Messages.DesiredState(seq, specs);
        });
    }

    /**
     * Stores an agent's report about a task of its node, once: a report with a sequence number at
     * or below the last stored one changes nothing. Reports about tasks the node does not have
     * (forgotten, or never its own) are dropped. Either way the report counts as received.
     */
    public Future<Void> agentReport(String nodeId, dev.berth.agent.protocol.Messages.TaskStateChange change) {
        if (change == null || change.taskArn() == null) {
            return Future.failedFuture(new FieldException("taskArn", "a report needs a taskArn"));
        }
        return machine.execute((state, changes) -> {
            Task t = state.task(change.taskArn());
            if (t == null || !nodeId.equals(t.containerInstanceArn) || change.seq() <= t.lastReportSeq) {
                return null;
            }
            report(state, changes, t, change.status(), change.reason(), change.containers(), change.healthStatus());
            t.lastReportSeq = change.seq();
            state.putTask(changes, t);
            return null;
        });
    }

    /**
     * Second step of stopping tasks a node runs but should not: of {@code candidates}, those the
     * control plane does not want running on this node.
     */
    public Future<List<String>> confirmStops(String nodeId, List<String> candidates) {
        List<String> asked = candidates == null ? List.of()
                : candidates.stream().filter(java.util.Objects::nonNull).distinct().limit(10_000).toList();
        return machine.execute((state, changes) -> {
            List<String> confirmed = new ArrayList<>();
            for (String id : asked) {
                Task t = state.task(id);
                boolean wanted = t != null && nodeId.equals(t.containerInstanceArn) && t.desiredStatus == TaskStatus.RUNNING
                        && t.lastStatus != TaskStatus.STOPPED;
                if (!wanted) {
                    confirmed.add(id);
                }
            }
            return confirmed;
        });
    }

    /** The node's agent connected (a heartbeat) or its session ended (no new tasks until it is back). */
    public Future<Void> agentSession(String nodeId, boolean connected) {
        return machine.execute((state, changes) -> {
            Node n = state.node(nodeId);
            if (n == null) {
                return null;
            }
            boolean was = n.agentConnected();
            if (connected && was) {
                state.refreshNode(n.withAgent(true, now()));
                return null;
            }
            state.putNode(changes, n.withAgent(connected, connected ? now() : n.lastHeartbeatAt()));
            if (connected && !was) {
                Placements.placePending(state, changes, n.cluster(), random);
                reconcileCluster(state, changes, n.cluster());
            }
            return null;
        });
    }

    // ------------------------------------------------------------------------------------------
    // Heartbeats, node health and the periodic step

    /** Three missed heartbeats (every 10 s): the node gets no new tasks. */
    public static final java.time.Duration DISCONNECTED_AFTER = java.time.Duration.ofSeconds(30);
    /** Default time without heartbeat after which a node's tasks are lost and replaced elsewhere. */
    public static final java.time.Duration LOST_AFTER = java.time.Duration.ofSeconds(60);
    private java.time.Duration lostAfter = LOST_AFTER;
    /**
     * When this controller started, or last reloaded its state: heartbeats older than that are not
     * held against a node (heartbeats live in memory only, so a reload forgets the recent ones).
     */
    private volatile Instant startedAt;

    /** How long a node may miss heartbeats before its tasks are replaced ({@code deploy.lostAfter}). */
    public ControlPlane lostAfter(java.time.Duration d) {
        this.lostAfter = d;
        return this;
    }

    private StateMachine.Command<ObjectNode> submitHeartbeat(Requests.SubmitHeartbeat r) {
        return (state, changes) -> {
            Cluster cluster = cluster(state, "cluster", r.cluster());
            Node node = node(state, cluster, "containerInstance", r.containerInstance());
            boolean back = !node.agentConnected();
            if (!back) {
                state.refreshNode(node.withAgent(true, now()));
                return object().put("acknowledged", true);
            }
            state.putNode(changes, node.withAgent(true, now()));
            if (back) {
                Placements.placePending(state, changes, cluster.clusterName(), random);
                reconcileCluster(state, changes, cluster.clusterName());
            }
            return object().put("acknowledged", true);
        };
    }

    /**
     * The periodic step (every second in a server): nodes whose heartbeats stopped become
     * disconnected, then lost (their tasks STOPPED and replaced); due push triggers deploy; every
     * service is reconciled (grace periods end, waiting tasks find room).
     */
    public Future<Void> tick() {
        return machine.execute((state, changes) -> {
            Instant now = now();
            java.util.Set<String> clusters = new java.util.TreeSet<>();
            for (Node n : List.copyOf(state.nodes())) {
                Instant last = n.lastHeartbeatAt() == null ? n.registeredAt() : n.lastHeartbeatAt();
                // After a restart of the controller every node gets the full time to come back.
                if (last.isBefore(startedAt)) {
                    last = startedAt;
                }
                if (n.agentConnected() && last.plus(DISCONNECTED_AFTER).isBefore(now)) {
                    state.putNode(changes, n.withAgent(false, n.lastHeartbeatAt()));
                    clusters.add(n.cluster());
                }
                if (last.plus(lostAfter).isBefore(now)) {
                    if (nodeLost(state, changes, n, now) > 0) {
                        clusters.add(n.cluster());
                    }
                }
            }
            forgetOldStoppedTasks(state, changes, now);
            services.firePendingTriggers(state, changes, now);
            for (Service s : List.copyOf(state.services())) {
                services.reconcile(state, changes, s, now);
            }
            for (Cluster c : List.copyOf(state.clusters())) {
                Placements.placePending(state, changes, c.clusterName(), random);
            }
            return null;
        }).mapEmpty();
    }

    /**
     * A manifest was pushed by tag: services whose autoDeploy takes it deploy it (or will, after
     * their debounce). The future completes once that decision is durable, so a feed subscriber
     * can advance its cursor. Answers how many services it concerned.
     */
    public Future<Integer> push(Push push) {
        return machine.execute((state, changes) -> services.push(state, changes, push, now()));
    }

    /** STOPPED tasks stay visible this long (like ECS, at least an hour), then are forgotten. */
    public static final java.time.Duration STOPPED_TASK_RETENTION = java.time.Duration.ofHours(1);

    private static void forgetOldStoppedTasks(ControlPlaneState state, Changes changes, Instant now) {
        Instant before = now.minus(STOPPED_TASK_RETENTION);
        List<String> old = new ArrayList<>();
        for (Task t : state.tasks()) {
            if (t.lastStatus == TaskStatus.STOPPED && t.stoppedAt != null && t.stoppedAt.isBefore(before)) {
                old.add(t.taskArn);
            }
        }
        old.forEach(id -> state.removeTask(changes, id));
        for (Service s : List.copyOf(state.services())) {
            if (Service.INACTIVE.equals(s.status) && !s.events.isEmpty() && s.events.get(0).createdAt().isBefore(before)) {
                state.removeService(changes, s.serviceArn);
            }
        }
    }

    /** The node's live tasks are lost: STOPPED (their resources with them), services replace them. */
    private int nodeLost(ControlPlaneState state, Changes changes, Node n, Instant now) {
        int lost = 0;
        for (Task t : state.tasks()) {
            if (n.id().equals(t.containerInstanceArn) && t.lastStatus != TaskStatus.STOPPED) {
                t.requestStop(Task.TASK_LOST, "node " + n.id() + " lost: no heartbeat since " + n.lastHeartbeatAt(), now);
                t.lastStatus = TaskStatus.STOPPED;
                t.stoppedAt = now;
                state.putTask(changes, t);
                lost++;
            }
        }
        return lost;
    }

    private void reconcileCluster(ControlPlaneState state, Changes changes, String cluster) {
        Instant now = now();
        for (Service s : List.copyOf(state.services())) {
            if (s.cluster.equals(cluster)) {
                services.reconcile(state, changes, s, now);
            }
        }
    }

    private void reconcileServiceOf(ControlPlaneState state, Changes changes, Task t) {
        if (t.serviceName != null) {
            Service s = state.service(t.cluster, t.serviceName);
            if (s != null) {
                services.reconcile(state, changes, s, now());
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Lookups and small checks

    static Cluster cluster(ControlPlaneState state, String field, String name) {
        String n = name == null ? Cluster.DEFAULT : name;
        Cluster c = state.cluster(n);
        if (c == null) {
            throw ControlPlaneException.notFound("ClusterNotFoundException", field, "no cluster " + shorten(n));
        }
        return c;
    }

    static Node node(ControlPlaneState state, Cluster cluster, String field, String id) {
        Check.required(field, id);
        Node n = state.node(id);
        if (n == null || !n.cluster().equals(cluster.clusterName())) {
            throw ControlPlaneException.notFound("ContainerInstanceNotFoundException", field,
                    "no node " + shorten(id) + " in cluster " + cluster.clusterName());
        }
        return n;
    }

    static Task task(ControlPlaneState state, Cluster cluster, String field, String id) {
        Check.required(field, id);
        Task t = state.task(id);
        if (t == null || !t.cluster.equals(cluster.clusterName())) {
            throw ControlPlaneException.notFound("TaskNotFoundException", field,
                    "no task " + shorten(id) + " in cluster " + cluster.clusterName());
        }
        return t;
    }

    static List<String> ids(String field, List<String> ids) {
        if (ids == null || ids.isEmpty()) {
            throw new FieldException(field, field + " needs at least one id");
        }
        if (ids.size() > 100) {
            throw new FieldException(field, field + " takes at most 100 ids");
        }
        for (int i = 0; i < ids.size(); i++) {
            if (ids.get(i) == null || ids.get(i).isEmpty()) {
                throw new FieldException(field + "[" + i + "]", field + "[" + i + "] is empty");
            }
        }
        return ids;
    }

    private static String group(String given, TaskDefinition td) {
        if (given == null) {
            return "family:" + td.family();
        }
        if (given.isEmpty() || given.length() > 255 || given.startsWith("service:")) {
            throw new FieldException("group", "group must be 1-255 characters and not start with service:");
        }
        return given;
    }

    private static String startedBy(String given) {
        if (given != null && (given.isEmpty() || given.length() > 128)) {
            throw new FieldException("startedBy", "startedBy must be 1-128 characters");
        }
        return given;
    }

    static List<PlacementStrategy> strategies(List<PlacementStrategy> given) {
        return normalized("placementStrategy", given, 5, (s, f) -> s.normalize(f));
    }

    static List<PlacementConstraint> constraints(List<PlacementConstraint> given) {
        return normalized("placementConstraints", given, 10, (c, f) -> c.normalize(f));
    }

    /** Each element of an optional request list, normalized and named by its index on error. */
    private static <T> List<T> normalized(String field, List<T> given, int max, java.util.function.BiFunction<T, String, T> normalize) {
        List<T> out = new ArrayList<>();
        if (given == null) {
            return out;
        }
        if (given.size() > max) {
            throw new FieldException(field, field + " takes at most " + max + " entries");
        }
        for (int i = 0; i < given.size(); i++) {
            String f = field + "[" + i + "]";
            out.add(normalize.apply(Check.required(f, given.get(i)), f));
        }
        return out;
    }

    private static String portKey(String field, String port) {
        String p = Check.required(field, port);
        String[] parts = p.split("/", -1);
        String proto = parts.length == 2 ? parts[1] : "tcp";
        try {
            int n = Integer.parseInt(parts[0]);
            if (parts.length <= 2 && n >= 1 && n <= 65535 && (proto.equals("tcp") || proto.equals("udp"))) {
                return n + "/" + proto;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new FieldException(field, field + " must be PORT or PORT/tcp or PORT/udp, not " + shorten(p));
    }

    private Instant now() {
        return machine.clock().instant();
    }

    static String newId() {
        byte[] b = new byte[16];
        IDS.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    /**
     * ECS's answer to a Describe action: {@code {field: [described…], failures: [{arn, reason: MISSING}…]}}.
     * {@code describe} answers null for an id that is missing (or belongs to another cluster).
     */
    static ObjectNode describedOrMissing(String field, List<String> ids, Function<String, ObjectNode> describe) {
        ArrayNode found = array();
        ArrayNode failures = array();
        for (String id : ids) {
            ObjectNode d = describe.apply(id);
            if (d == null) {
                failures.add(object().put("arn", id).put("reason", "MISSING"));
            } else {
                found.add(d);
            }
        }
        return answer(field, found, failures);
    }

    /** ECS's answer shape: {@code {field: [...], failures: [...]}}. */
    private static ObjectNode answer(String field, ArrayNode items, ArrayNode failures) {
        ObjectNode answer = object();
        answer.set(field, items);
        answer.set("failures", failures);
        return answer;
    }

    private static ObjectNode object() {
        return DeployJson.MAPPER.createObjectNode();
    }

    private static ArrayNode array() {
        return DeployJson.MAPPER.createArrayNode();
    }

    private static ObjectNode paged(ObjectNode answer, Paging<?> page) {
        if (page.nextToken() != null) {
            answer.put("nextToken", page.nextToken());
        }
        return answer;
    }

    /** The smallest node that can register, in MiB. */
    private static final int MIN_NODE_MEMORY_MIB = 64;

    /** Required-field checks for values outside the model's factories. */
    static final class Check {
        static <T> T required(String field, T value) {
            if (value == null) {
                throw new FieldException(field, field + " is required");
            }
            return value;
        }
    }
}
