/**
 * A small Docker Engine API client over the local unix socket (Vert.x HTTP client, no extra
 * library): ping, system info, image pull, container create/start/stop/kill/inspect/list/remove and
 * log streaming, the calls the agent makes. Errors carry the Engine's message and HTTP status.
 */
package dev.berth.agent.docker;
