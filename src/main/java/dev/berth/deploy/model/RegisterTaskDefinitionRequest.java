package dev.berth.deploy.model;

import java.util.List;

/** The body of RegisterTaskDefinition: what a user writes in a task definition file. */
public record RegisterTaskDefinitionRequest(
        String family,
        String networkMode,
        List<Volume> volumes,
        List<ContainerDefinition> containerDefinitions) {
}
