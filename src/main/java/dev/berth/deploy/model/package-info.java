/**
 * The control plane's vocabulary, after AWS ECS: clusters, task definitions (immutable revisions),
 * services with their deployments and events, tasks (ordered status enums, desired status only
 * moves forward) and nodes (container instances). Values validate in their factories and name the
 * request field at fault ({@link dev.berth.deploy.model.FieldException}).
 *
 * <p>Plain values only: no I/O, no clocks, no knowledge of HTTP or of the store.
 */
package dev.berth.deploy.model;
