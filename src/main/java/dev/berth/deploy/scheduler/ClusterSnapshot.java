package dev.berth.deploy.scheduler;

import java.util.List;

/** The nodes of one cluster at one moment, in a stable order (by id). */
public record ClusterSnapshot(String cluster, List<NodeSnapshot> nodes) {
    public ClusterSnapshot {
        nodes = List.copyOf(nodes);
    }
}
