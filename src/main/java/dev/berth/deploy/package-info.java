/**
 * Berth's deployer, after AWS ECS. {@link dev.berth.deploy.ControlPlane} holds the actions (one
 * command each on the {@link dev.berth.deploy.state.StateMachine}); placement is delegated to the
 * pure {@link dev.berth.deploy.scheduler.Scheduler}; {@code TaskLifecycle} is the next-state function
 * for what nodes report. Nothing here touches HTTP: {@code deploy.api} maps the actions to routes.
 */
package dev.berth.deploy;
