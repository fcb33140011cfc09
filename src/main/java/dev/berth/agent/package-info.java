/**
 * The node side of the deployer: {@code berth agent} and the embedded agent of {@code berth serve}.
 * {@code agent.docker} talks to the local Docker Engine over its API.
 */
package dev.berth.agent;
