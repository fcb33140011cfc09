package dev.berth.deploy.scheduler;

import dev.berth.deploy.model.PlacementConstraint;
import dev.berth.deploy.model.PlacementStrategy;
import java.util.List;

/**
 * What one task needs from a node, and how its group wants to be placed. Strategies and
 * constraints are already validated; no strategy means spread by instance.
 */
public record TaskRequirements(
        String group,
        int cpu,
        int memory,
        List<String> hostPorts,
        List<PlacementStrategy> strategies,
        List<PlacementConstraint> constraints) {

    public TaskRequirements {
        hostPorts = List.copyOf(hostPorts);
        strategies = strategies == null || strategies.isEmpty() ? List.of(PlacementStrategy.SPREAD_INSTANCES)
                : List.copyOf(strategies);
        constraints = constraints == null ? List.of() : List.copyOf(constraints);
    }
}
