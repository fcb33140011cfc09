package dev.berth.deploy.model;

import java.util.Set;

/** {@code dependsOn[]}: start this container only once {@code containerName} reached {@code condition}. */
public record ContainerDependency(String containerName, String condition) {
    static final Set<String> CONDITIONS = Set.of("START", "COMPLETE", "SUCCESS", "HEALTHY");

    ContainerDependency normalize(String field) {
        Check.required(field + ".containerName", containerName);
        String c = Check.required(field + ".condition", condition);
        if (!CONDITIONS.contains(c)) {
            throw new FieldException(field + ".condition", field + ".condition must be START, COMPLETE, SUCCESS or HEALTHY, not "
                    + Check.shorten(c));
        }
        return this;
    }
}
