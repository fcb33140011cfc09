/**
 * The control plane over HTTP: {@code POST /api/<Action>} with the action's JSON request body, ECS
 * action and field names, answered with the action's JSON document; errors as
 * {@code {"error":{"code","message","field"}}} through the /api/ failure handler.
 */
package dev.berth.deploy.api;
