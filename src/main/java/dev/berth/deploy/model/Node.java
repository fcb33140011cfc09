package dev.berth.deploy.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.List;

/**
 * A node (ECS: container instance): a Docker host whose agent registered with the controller.
 * {@code status} is the operator's choice (ACTIVE, DRAINING); {@code agentConnected} is the agent
 * link. Only ACTIVE nodes with a connected agent receive new tasks. {@code agentTokenSha256}: the
 * hash of the token its agent authenticates with (never shown by the API).
 */
public record Node(
        String containerInstanceArn,
        String cluster,
        String hostname,
        String status,
        boolean agentConnected,
        Resources registeredResources,
        List<Attribute> attributes,
        String agentVersion,
        Instant registeredAt,
        Instant lastHeartbeatAt,
        String agentTokenSha256) {

    public static final String ACTIVE = "ACTIVE";
    public static final String DRAINING = "DRAINING";

    public Node withStatus(String newStatus) {
        return new Node(containerInstanceArn, cluster, hostname, newStatus, agentConnected, registeredResources, attributes,
                agentVersion, registeredAt, lastHeartbeatAt, agentTokenSha256);
    }

    public Node withAgent(boolean connected, Instant heartbeat) {
        return new Node(containerInstanceArn, cluster, hostname, status, connected, registeredResources, attributes,
                agentVersion, registeredAt, heartbeat, agentTokenSha256);
    }

    @JsonIgnore
    public String id() {
        return containerInstanceArn;
    }

    /** The attribute's value; "" for a flag attribute without a value; null when absent. */
    public String attribute(String name) {
        for (Attribute a : attributes) {
            if (a.name().equals(name)) {
                return a.value() == null ? "" : a.value();
            }
        }
        return null;
    }
}
