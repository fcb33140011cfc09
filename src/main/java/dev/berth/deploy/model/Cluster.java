package dev.berth.deploy.model;

import java.time.Instant;

/** A logical group of nodes, services and tasks; every one of them belongs to exactly one cluster. */
public record Cluster(String clusterName, String status, Instant createdAt) {
    public static final String DEFAULT = "default";

    public static Cluster create(String name, Instant now) {
        return new Cluster(Check.name("clusterName", name), "ACTIVE", now);
    }

    /** Checks a cluster name given in a request's {@code field} (the name's format only). */
    public static String checkName(String field, String name) {
        return Check.name(field, name);
    }
}
