package dev.berth.deploy.model;

/**
 * How a service rolls: never more than {@code maximumPercent} of the desired count alive, never
 * fewer than {@code minimumHealthyPercent} healthy; the circuit breaker fails (and optionally rolls
 * back) a deployment whose tasks keep failing.
 */
public record DeploymentConfiguration(Integer maximumPercent, Integer minimumHealthyPercent,
                                      CircuitBreaker deploymentCircuitBreaker) {

    /**
     * {@code threshold}: failed tasks that trip the breaker; absent means ECS's rule, half the
     * desired count clamped to 3..200.
     */
    public record CircuitBreaker(Boolean enable, Boolean rollback, Integer threshold) {
    }

    public static final DeploymentConfiguration DEFAULT = new DeploymentConfiguration(200, 100,
            new CircuitBreaker(false, false, null));

    public DeploymentConfiguration normalize(String field) {
        int max = Check.range(field + ".maximumPercent", maximumPercent, 100, 200, 200);
        int min = Check.range(field + ".minimumHealthyPercent", minimumHealthyPercent, 0, 100, 100);
        if (min == 100 && max == 100) {
            throw new FieldException(field + ".maximumPercent", "with minimumHealthyPercent 100, maximumPercent must be above"
                    + " 100, or no task could ever be replaced");
        }
        CircuitBreaker cb = deploymentCircuitBreaker == null ? new CircuitBreaker(false, false, null) : deploymentCircuitBreaker;
        Integer threshold = cb.threshold();
        if (threshold != null) {
            Check.range(field + ".deploymentCircuitBreaker.threshold", threshold, 1, 200);
        }
        boolean enable = cb.enable() != null && cb.enable();
        boolean rollback = cb.rollback() != null && cb.rollback();
        if (rollback && !enable) {
            throw new FieldException(field + ".deploymentCircuitBreaker.rollback",
                    "rollback needs the circuit breaker enabled (enable: true)");
        }
        return new DeploymentConfiguration(max, min, new CircuitBreaker(enable, rollback, threshold));
    }

    /** Failed tasks that trip the breaker for {@code desiredCount}. */
    public int failureThreshold(int desiredCount) {
        if (deploymentCircuitBreaker.threshold() != null) {
            return deploymentCircuitBreaker.threshold();
        }
        return Math.max(3, Math.min(200, (desiredCount + 1) / 2));
    }

    /** The most tasks alive at once: the floor of desired × maximumPercent. */
    public int maximumTasks(int desiredCount) {
        return desiredCount * maximumPercent / 100;
    }

    /** The fewest healthy tasks during a rollout: the ceiling of desired × minimumHealthyPercent. */
    public int minimumHealthy(int desiredCount) {
        return (desiredCount * minimumHealthyPercent + 99) / 100;
    }
}
