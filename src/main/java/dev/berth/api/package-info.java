/**
 * The operator API under {@code /api/}: JSON over HTTP for the control plane (webhooks now; task
 * definitions, services, tasks and nodes later). Errors are {@code {"error":{code,message,field}}},
 * naming the offending field. Handlers delegate to the services they expose and never block.
 */
package dev.berth.api;
