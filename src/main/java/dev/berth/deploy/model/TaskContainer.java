package dev.berth.deploy.model;

import java.util.List;

/**
 * One container of a task as it runs: the image pinned by digest, its own status, exit code and
 * reason once stopped, its health, and the host ports it got.
 */
public record TaskContainer(
        String name,
        String image,
        String lastStatus,
        Integer exitCode,
        String reason,
        String healthStatus,
        List<NetworkBinding> networkBindings) {

    public TaskContainer {
        networkBindings = networkBindings == null ? List.of() : List.copyOf(networkBindings);
    }
}
