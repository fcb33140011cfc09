package dev.berth.deploy.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A registered task definition: one immutable revision of a family. Only {@code status} (ACTIVE →
 * INACTIVE on deregistration) and {@code deregisteredAt} ever change.
 */
public record TaskDefinition(
        String taskDefinitionArn,
        String family,
        int revision,
        String status,
        String networkMode,
        List<Volume> volumes,
        List<ContainerDefinition> containerDefinitions,
        Instant registeredAt,
        Instant deregisteredAt) {

    public static final String ACTIVE = "ACTIVE";
    public static final String INACTIVE = "INACTIVE";
    public static final int MAX_CONTAINERS = 10;

    /**
     * Validates {@code request} and builds revision {@code revision} of its family, with every
     * default filled in. Throws {@link FieldException} naming the first field at fault.
     */
    public static TaskDefinition register(RegisterTaskDefinitionRequest request, int revision, Instant now) {
        String family = Check.name("family", request.family());
        String mode = request.networkMode() == null ? "bridge" : request.networkMode();
        if (!mode.equals("bridge") && !mode.equals("host")) {
            throw new FieldException("networkMode", "networkMode must be bridge or host, not " + Check.shorten(mode));
        }
        List<Volume> volumes = new ArrayList<>();
        Set<String> volumeNames = new HashSet<>();
        List<Volume> givenVolumes = Check.list(request.volumes());
        for (int i = 0; i < givenVolumes.size(); i++) {
            String f = "volumes[" + i + "]";
            Volume v = Check.required(f, givenVolumes.get(i)).normalize(f);
            if (!volumeNames.add(v.name())) {
                throw new FieldException(f + ".name", f + ".name " + v.name() + " is used twice");
            }
            volumes.add(v);
        }
        List<ContainerDefinition> given = Check.required("containerDefinitions", request.containerDefinitions());
        if (given.isEmpty() || given.size() > MAX_CONTAINERS) {
            throw new FieldException("containerDefinitions", "containerDefinitions must hold 1 to " + MAX_CONTAINERS
                    + " containers");
        }
        List<ContainerDefinition> containers = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>();
        Map<String, String> hostPorts = new HashMap<>();
        for (int i = 0; i < given.size(); i++) {
            String f = "containerDefinitions[" + i + "]";
            ContainerDefinition c = Check.required(f, given.get(i)).normalize(f, mode);
            if (index.putIfAbsent(c.name(), i) != null) {
                throw new FieldException(f + ".name", f + ".name " + c.name() + " is used by two containers");
            }
            for (int p = 0; p < c.portMappings().size(); p++) {
                PortMapping m = c.portMappings().get(p);
                if (m.dynamic()) {
                    continue;
                }
                String key = m.hostPort() + "/" + m.protocol();
                String other = hostPorts.putIfAbsent(key, c.name());
                if (other != null) {
                    throw new FieldException(f + ".portMappings[" + p + "].hostPort", "host port " + key
                            + " is mapped twice in the task (containers " + other + " and " + c.name() + ")");
                }
            }
            for (int m = 0; m < c.mountPoints().size(); m++) {
                if (!volumeNames.contains(c.mountPoints().get(m).sourceVolume())) {
                    throw new FieldException(f + ".mountPoints[" + m + "].sourceVolume", "volume "
                            + c.mountPoints().get(m).sourceVolume() + " is not defined in volumes");
                }
            }
            containers.add(c);
        }
        if (containers.stream().noneMatch(ContainerDefinition::essential)) {
            throw new FieldException("containerDefinitions", "at least one container must be essential");
        }
        checkDependencies(containers, index);
        String arn = family + ":" + revision;
        return new TaskDefinition(arn, family, revision, ACTIVE, mode, List.copyOf(volumes), List.copyOf(containers), now, null);
    }

    /** Dependencies name other containers of the task, HEALTHY ones have a health check, and there is no cycle. */
    private static void checkDependencies(List<ContainerDefinition> containers, Map<String, Integer> index) {
        for (int i = 0; i < containers.size(); i++) {
            ContainerDefinition c = containers.get(i);
            for (int d = 0; d < c.dependsOn().size(); d++) {
                ContainerDependency dep = c.dependsOn().get(d);
                String f = "containerDefinitions[" + i + "].dependsOn[" + d + "].containerName";
                Integer target = index.get(dep.containerName());
                if (target == null) {
                    throw new FieldException(f, "container " + Check.shorten(dep.containerName()) + " is not in the task");
                }
                if (target == i) {
                    throw new FieldException(f, "container " + c.name() + " cannot depend on itself");
                }
                if (dep.condition().equals("HEALTHY") && containers.get(target).healthCheck() == null) {
                    throw new FieldException("containerDefinitions[" + i + "].dependsOn[" + d + "].condition",
                            "condition HEALTHY needs a healthCheck on container " + dep.containerName());
                }
            }
        }
        // Kahn's algorithm: whatever is left once nothing without pending dependencies remains is a cycle.
        int[] pending = new int[containers.size()];
        Map<Integer, List<Integer>> dependents = new HashMap<>();
        for (int i = 0; i < containers.size(); i++) {
            for (ContainerDependency dep : containers.get(i).dependsOn()) {
                pending[i]++;
                dependents.computeIfAbsent(index.get(dep.containerName()), k -> new ArrayList<>()).add(i);
            }
        }
        Deque<Integer> ready = new ArrayDeque<>();
        for (int i = 0; i < pending.length; i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        int done = 0;
        while (!ready.isEmpty()) {
            int n = ready.poll();
            done++;
            for (int dependent : dependents.getOrDefault(n, List.of())) {
                if (--pending[dependent] == 0) {
                    ready.add(dependent);
                }
            }
        }
        if (done < containers.size()) {
            // Every container left over is on a cycle or depends on one: follow dependencies among
            // the leftovers from any of them until a container repeats; that one is on the cycle.
            int at = 0;
            while (pending[at] == 0) {
                at++;
            }
            Set<Integer> visited = new HashSet<>();
            while (visited.add(at)) {
                for (ContainerDependency dep : containers.get(at).dependsOn()) {
                    int next = index.get(dep.containerName());
                    if (pending[next] > 0) {
                        at = next;
                        break;
                    }
                }
            }
            throw new FieldException("containerDefinitions[" + at + "].dependsOn",
                    "dependsOn forms a cycle through container " + containers.get(at).name());
        }
    }

    public TaskDefinition deregistered(Instant now) {
        return new TaskDefinition(taskDefinitionArn, family, revision, INACTIVE, networkMode, volumes, containerDefinitions,
                registeredAt, now);
    }

    /** {@code family:revision}. */
    @JsonIgnore
    public String key() {
        return family + ":" + revision;
    }

    @JsonIgnore
    public boolean active() {
        return ACTIVE.equals(status);
    }

    /** CPU units the task reserves on a node: the sum over its containers. */
    @JsonIgnore
    public int cpu() {
        return containerDefinitions.stream().mapToInt(ContainerDefinition::cpu).sum();
    }

    /** Memory (MiB) the task reserves on a node: the sum of each container's reservation. */
    @JsonIgnore
    public int memory() {
        return containerDefinitions.stream().mapToInt(ContainerDefinition::reservedMemory).sum();
    }

    /** The fixed host ports the task needs, as {@code port/protocol}. */
    @JsonIgnore
    public List<String> fixedHostPorts() {
        List<String> ports = new ArrayList<>();
        for (ContainerDefinition c : containerDefinitions) {
            for (PortMapping p : c.portMappings()) {
                if (!p.dynamic()) {
                    ports.add(p.hostPort() + "/" + p.protocol());
                }
            }
        }
        return ports;
    }
}
