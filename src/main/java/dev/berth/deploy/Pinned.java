package dev.berth.deploy;

import dev.berth.deploy.model.TaskDefinition;
import java.util.Map;

/**
 * The images of one task definition revision pinned by digest (container name to image), resolved
 * before the command that deploys them runs. The command uses them only for that very revision: if
 * another one is meant by the time it runs, it asks for the pinning to be done again.
 */
record Pinned(String taskDefinition, Map<String, String> images) {
    static final Pinned NONE = new Pinned(null, Map.of());

    boolean isFor(TaskDefinition td) {
        return td.key().equals(taskDefinition);
    }
}
