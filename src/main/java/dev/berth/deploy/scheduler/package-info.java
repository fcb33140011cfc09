/**
 * Placement: which node each new task goes to. {@link dev.berth.deploy.scheduler.Scheduler} is a
 * pure function over a read-only {@link dev.berth.deploy.scheduler.ClusterSnapshot}: feasibility
 * steps (node status, agent, constraints, resources, host ports) cut the candidate set, then the
 * placement strategies rank what is left. When nothing fits, it names the step that left no
 * candidate, in words an operator can act on.
 *
 * <p>No I/O, no clock, no shared state: the controller builds the snapshot and applies the result.
 */
package dev.berth.deploy.scheduler;
