package dev.berth.deploy.model;

import java.util.List;

/**
 * The bodies of the control-plane actions, with ECS's names for actions and fields. Each is read
 * with unknown fields refused; absent fields are null and take the documented default.
 */
public final class Requests {
    private Requests() {
    }

    public record CreateCluster(String clusterName) {
    }

    public record DescribeClusters(List<String> clusters) {
    }

    public record ListClusters(Integer maxResults, String nextToken) {
    }

    public record DeleteCluster(String cluster) {
    }

    public record DeregisterTaskDefinition(String taskDefinition) {
    }

    public record DescribeTaskDefinition(String taskDefinition) {
    }

    public record ListTaskDefinitions(String familyPrefix, String status, String sort, Integer maxResults, String nextToken) {
    }

    public record ListTaskDefinitionFamilies(String familyPrefix, String status, Integer maxResults, String nextToken) {
    }

    /** {@code joinToken}: the node joins the cluster the token names ({@code cluster} may then be omitted). */
    public record RegisterContainerInstance(String cluster, String joinToken, String hostname, Resources totalResources,
                                            List<Attribute> attributes, String agentVersion) {
    }

    /**
     * Berth's: a token an agent presents to join {@code cluster}, valid for {@code expiresInSeconds}
     * and for {@code uses} registrations (default 1: single-use).
     */
    public record CreateJoinToken(String cluster, Integer expiresInSeconds, Integer uses) {
    }

    public record DeregisterContainerInstance(String cluster, String containerInstance, Boolean force) {
    }

    public record ListContainerInstances(String cluster, String status, Integer maxResults, String nextToken) {
    }

    public record DescribeContainerInstances(String cluster, List<String> containerInstances) {
    }

    public record UpdateContainerInstancesState(String cluster, List<String> containerInstances, String status) {
    }

    public record RunTask(String cluster, String taskDefinition, Integer count, String group, String startedBy,
                          List<PlacementStrategy> placementStrategy, List<PlacementConstraint> placementConstraints) {
    }

    public record StartTask(String cluster, String taskDefinition, List<String> containerInstances, String group,
                            String startedBy) {
    }

    public record StopTask(String cluster, String task, String reason) {
    }

    public record ListTasks(String cluster, String serviceName, String containerInstance, String family,
                            String startedBy, String desiredStatus, Integer maxResults, String nextToken) {
    }

    public record DescribeTasks(String cluster, List<String> tasks) {
    }

    /** What a node's agent reports about one task (ECS: SubmitTaskStateChange). */
    public record SubmitTaskStateChange(String cluster, String task, String status, String reason,
                                        List<ContainerStateChange> containers, String healthStatus) {
    }

    public record ContainerStateChange(String containerName, String status, Integer exitCode, String reason,
                                       String healthStatus, List<NetworkBinding> networkBindings) {
    }

    public record CreateService(String cluster, String serviceName, String taskDefinition, Integer desiredCount,
                                DeploymentConfiguration deploymentConfiguration, List<PlacementStrategy> placementStrategy,
                                List<PlacementConstraint> placementConstraints, Integer healthCheckGracePeriodSeconds,
                                AutoDeploy autoDeploy) {
    }

    /** Absent fields keep their value; {@code forceNewDeployment} re-resolves tags and replaces every task. */
    public record UpdateService(String cluster, String service, String taskDefinition, Integer desiredCount,
                                DeploymentConfiguration deploymentConfiguration, List<PlacementStrategy> placementStrategy,
                                List<PlacementConstraint> placementConstraints, Integer healthCheckGracePeriodSeconds,
                                AutoDeploy autoDeploy, Boolean removeAutoDeploy, Boolean forceNewDeployment) {
    }

    public record DeleteService(String cluster, String service, Boolean force) {
    }

    public record DescribeServices(String cluster, List<String> services) {
    }

    public record ListServices(String cluster, Integer maxResults, String nextToken) {
    }

    /** Berth's: the events of one service or of every service of the cluster, newest first. */
    public record ListServiceEvents(String cluster, String service, Integer maxResults) {
    }

    /** What an agent sends periodically (and the controller tracks to tell lost nodes). */
    public record SubmitHeartbeat(String cluster, String containerInstance) {
    }
}
