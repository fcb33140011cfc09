package dev.berth.deploy.scheduler;

import java.util.List;

/**
 * The answer for {@code count} tasks: the node of each task placed, in order, and when fewer than
 * asked were placed, why the next one did not fit.
 */
public record Placement(List<String> nodes, String reason) {
    public Placement {
        nodes = List.copyOf(nodes);
    }

    public boolean complete(int count) {
        return nodes.size() == count;
    }
}
