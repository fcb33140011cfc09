/**
 * The control plane's durable state: every cluster, task definition, service, task and node as a
 * JSON document in the embedded database ({@code cp_object}), all of it held in memory by the
 * {@link dev.berth.deploy.state.StateMachine}, which runs every command on one Vert.x context and
 * answers only after the command's changes are committed.
 *
 * <p>Commands validate before they change anything; a command that fails half-way, or a commit
 * that fails, makes the machine reload the state from the database.
 */
package dev.berth.deploy.state;
