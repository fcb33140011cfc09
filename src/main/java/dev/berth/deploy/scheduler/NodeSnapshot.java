package dev.berth.deploy.scheduler;

import java.util.Map;
import java.util.Set;

/**
 * One node as placement sees it: free CPU units and memory (MiB), the host ports in use
 * ({@code port/protocol}), attributes, and how many live tasks of each group it runs.
 */
public record NodeSnapshot(
        String id,
        String hostname,
        boolean active,
        boolean connected,
        int cpuFree,
        int memoryFree,
        Set<String> usedPorts,
        Map<String, String> attributes,
        Map<String, Integer> groupCounts) {

    public NodeSnapshot {
        usedPorts = Set.copyOf(usedPorts);
        attributes = Map.copyOf(attributes);
        groupCounts = Map.copyOf(groupCounts);
    }

    /** What an expression subject resolves to on this node (null: absent). */
    String subject(String subject) {
        if (subject.equals("instanceId")) {
            return id;
        }
        if (subject.equals("hostname")) {
            return hostname;
        }
        return attributes.get(subject.substring("attribute:".length()));
    }
}
