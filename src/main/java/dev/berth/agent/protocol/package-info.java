/**
 * The agent protocol, shared by the controller and the agent: WebSocket text frames
 * {@code {"type": NAME, "message": {…}}}, one record per message type. Level-triggered and
 * at-least-once: the controller sends whole {@link dev.berth.agent.protocol.Messages.DesiredState}
 * snapshots with a growing sequence number (the agent applies stops before starts, persists, then
 * acks); the agent sends per-task state changes with their own sequence numbers, retried until
 * acknowledged. See ARCHITECTURE.md, "Agent protocol".
 */
package dev.berth.agent.protocol;
