package dev.berth.deploy.model;

/** A published port of a running container: where on the node a container port answers. */
public record NetworkBinding(String bindIP, int containerPort, int hostPort, String protocol) {
}
