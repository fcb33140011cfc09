package dev.berth.deploy.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A service: keeps {@code desiredCount} tasks of its PRIMARY deployment running, replacing old and
 * failed ones within its deployment configuration. A plain field-only class living in the
 * controller's state, like {@link Task}.
 */
public final class Service {
    public static final String ACTIVE = "ACTIVE";
    public static final String DRAINING = "DRAINING";
    public static final String INACTIVE = "INACTIVE";
    public static final int MAX_EVENTS = 100;
    public static final int MAX_INACTIVE_DEPLOYMENTS = 5;

    public String serviceArn;
    public String serviceName;
    public String cluster;
    public String status;
    public String taskDefinition;
    public int desiredCount;
    public DeploymentConfiguration deploymentConfiguration;
    public List<PlacementStrategy> placementStrategy = new ArrayList<>();
    public List<PlacementConstraint> placementConstraints = new ArrayList<>();
    public int healthCheckGracePeriodSeconds;
    public AutoDeploy autoDeploy;
    /** Newest first. */
    public List<Deployment> deployments = new ArrayList<>();
    /** Newest first, at most {@link #MAX_EVENTS}. */
    public List<ServiceEvent> events = new ArrayList<>();
    /** Digests a rollback took away: the push trigger does not deploy them again. */
    public List<String> rolledBackDigests = new ArrayList<>();
    /** A push trigger waiting out {@code debounceSeconds}: the image to deploy and when. */
    public PendingTrigger pendingTrigger;
    public Instant createdAt;
    /** The last message of each kind (placement trouble, …) so that it is not repeated every tick. */
    public String lastPlacementMessage;

    /** A debounced push: deploy {@code image} (pinned) to {@code container} at {@code dueAt}. */
    public record PendingTrigger(String container, String image, String digest, String reason, Instant dueAt) {
    }

    public static String arn(String cluster, String name) {
        return cluster + "/" + name;
    }

    @JsonIgnore
    public String group() {
        return "service:" + serviceName;
    }

    @JsonIgnore
    public Deployment primary() {
        for (Deployment d : deployments) {
            if (Deployment.PRIMARY.equals(d.status)) {
                return d;
            }
        }
        return null;
    }

    public void event(String id, Instant now, String message) {
        events.add(0, new ServiceEvent(id, now, message));
        while (events.size() > MAX_EVENTS) {
            events.remove(events.size() - 1);
        }
    }
}
