package dev.berth.deploy.model;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One container of a task definition, with ECS's field names. After {@link #normalize} every
 * defaulted field is filled in ({@code essential}, {@code cpu}, {@code stopTimeout}, port protocols
 * and host ports, health check timings), so what is stored is what runs.
 */
public record ContainerDefinition(
        String name,
        String image,
        Integer cpu,
        Integer memory,
        Integer memoryReservation,
        List<PortMapping> portMappings,
        List<KeyValuePair> environment,
        List<String> command,
        List<String> entryPoint,
        Boolean essential,
        HealthCheck healthCheck,
        List<ContainerDependency> dependsOn,
        List<MountPoint> mountPoints,
        Integer stopTimeout) {

    /** The smallest hard memory limit Docker accepts, in MiB. */
    public static final int MIN_MEMORY_MIB = 6;

    ContainerDefinition normalize(String field, String networkMode) {
        Check.name(field + ".name", name);
        String img = Check.required(field + ".image", image);
        try {
            ImageReference.parse(img);
        } catch (IllegalArgumentException e) {
            throw new FieldException(field + ".image", field + ".image: " + e.getMessage());
        }
        int cpuUnits = Check.range(field + ".cpu", cpu, 0, 1_048_576, 0);
        if (memory != null) {
            Check.range(field + ".memory", memory, MIN_MEMORY_MIB, 16_777_216);
        }
        if (memoryReservation != null) {
            Check.range(field + ".memoryReservation", memoryReservation, MIN_MEMORY_MIB, 16_777_216);
        }
        if (memory == null && memoryReservation == null) {
            throw new FieldException(field + ".memory", field + ": memory or memoryReservation (MiB) is required,"
                    + " so that the scheduler knows what the container needs");
        }
        if (memory != null && memoryReservation != null && memoryReservation > memory) {
            throw new FieldException(field + ".memoryReservation", field + ".memoryReservation ("
                    + memoryReservation + ") must not exceed memory (" + memory + ")");
        }
        List<PortMapping> ports = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<PortMapping> given = Check.list(portMappings);
        for (int i = 0; i < given.size(); i++) {
            String f = field + ".portMappings[" + i + "]";
            PortMapping p = Check.required(f, given.get(i)).normalize(f, networkMode);
            if (!seen.add(p.containerPort() + "/" + p.protocol())) {
                throw new FieldException(f + ".containerPort", f + ": container port " + p.containerPort() + "/" + p.protocol()
                        + " is mapped twice");
            }
            ports.add(p);
        }
        List<KeyValuePair> env = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<KeyValuePair> givenEnv = Check.list(environment);
        for (int i = 0; i < givenEnv.size(); i++) {
            String f = field + ".environment[" + i + "]";
            KeyValuePair kv = Check.required(f, givenEnv.get(i)).normalize(f);
            if (!names.add(kv.name())) {
                throw new FieldException(f + ".name", f + ".name " + kv.name() + " is set twice");
            }
            env.add(kv);
        }
        List<ContainerDependency> deps = new ArrayList<>();
        List<ContainerDependency> givenDeps = Check.list(dependsOn);
        for (int i = 0; i < givenDeps.size(); i++) {
            String f = field + ".dependsOn[" + i + "]";
            deps.add(Check.required(f, givenDeps.get(i)).normalize(f));
        }
        List<MountPoint> mounts = new ArrayList<>();
        List<MountPoint> givenMounts = Check.list(mountPoints);
        for (int i = 0; i < givenMounts.size(); i++) {
            String f = field + ".mountPoints[" + i + "]";
            mounts.add(Check.required(f, givenMounts.get(i)).normalize(f));
        }
        return new ContainerDefinition(name, img, cpuUnits, memory, memoryReservation, List.copyOf(ports), List.copyOf(env),
                Check.strings(field + ".command", command, 65_536),
                Check.strings(field + ".entryPoint", entryPoint, 65_536),
                essential == null || essential,
                healthCheck == null ? null : healthCheck.normalize(field + ".healthCheck"),
                List.copyOf(deps), List.copyOf(mounts),
                Check.range(field + ".stopTimeout", stopTimeout, 2, 120, 30));
    }

    /** What the scheduler reserves for this container: the soft reservation when set, else the hard limit. */
    public int reservedMemory() {
        return memoryReservation != null ? memoryReservation : memory;
    }
}
