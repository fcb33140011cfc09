package dev.berth.deploy.model;

import java.util.List;

/**
 * What a node offers or has left: CPU units (1024 per core), memory in MiB, and the host ports
 * that are taken ({@code port/protocol}, such as {@code 22/tcp}).
 */
public record Resources(int cpu, int memory, List<String> ports) {
    public Resources {
        ports = ports == null ? List.of() : List.copyOf(ports);
    }
}
