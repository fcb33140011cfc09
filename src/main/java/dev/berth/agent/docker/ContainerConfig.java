package dev.berth.agent.docker;

import dev.berth.deploy.model.ContainerDefinition;
import dev.berth.deploy.model.HealthCheck;
import dev.berth.deploy.model.KeyValuePair;
import dev.berth.deploy.model.MountPoint;
import dev.berth.deploy.model.PortMapping;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.deploy.model.Volume;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * The Engine's container-create body for one container of a task, from its definition: command,
 * entry point, environment, labels, port mappings (host port 0 lets the Engine pick one), memory
 * limit and reservation, CPU shares, volumes (host paths as binds, scratch volumes as named volumes
 * owned by the task), health check (seconds become nanoseconds), stop timeout, network mode.
 */
public final class ContainerConfig {
    /** Labels that mark Berth's containers, so that a restarted agent finds and adopts them. */
    public static final String TASK_LABEL = "dev.berth.task";
    public static final String CONTAINER_LABEL = "dev.berth.container";
    public static final String CLUSTER_LABEL = "dev.berth.cluster";
    public static final String NODE_LABEL = "dev.berth.node";

    private static final long SECOND_NS = 1_000_000_000L;
    private static final long MIB = 1024L * 1024L;

    private ContainerConfig() {
    }

    /** The create body for {@code container} of {@code task}, running {@code image}. */
    public static JsonObject of(TaskDefinition task, ContainerDefinition container, String image, String taskId,
                                Map<String, String> labels) {
        JsonObject body = new JsonObject().put("Image", image);
        if (container.command() != null) {
            body.put("Cmd", new JsonArray(container.command()));
        }
        if (container.entryPoint() != null) {
            body.put("Entrypoint", new JsonArray(container.entryPoint()));
        }
        JsonArray env = new JsonArray();
        for (KeyValuePair kv : container.environment()) {
            env.add(kv.name() + "=" + kv.value());
        }
        body.put("Env", env);
        JsonObject allLabels = new JsonObject().put(TASK_LABEL, taskId).put(CONTAINER_LABEL, container.name());
        labels.forEach(allLabels::put);
        body.put("Labels", allLabels);
        body.put("StopTimeout", container.stopTimeout());

        JsonObject exposed = new JsonObject();
        JsonObject bindings = new JsonObject();
        for (PortMapping p : container.portMappings()) {
            String key = p.containerPort() + "/" + p.protocol();
            exposed.put(key, new JsonObject());
            // An empty HostPort asks the Engine for a free ephemeral port.
            bindings.put(key, new JsonArray().add(new JsonObject().put("HostIp", "")
                    .put("HostPort", p.dynamic() ? "" : String.valueOf(p.hostPort()))));
        }
        body.put("ExposedPorts", exposed);

        HealthCheck hc = container.healthCheck();
        if (hc != null) {
            body.put("Healthcheck", new JsonObject()
                    .put("Test", new JsonArray(hc.command()))
                    .put("Interval", hc.interval() * SECOND_NS)
                    .put("Timeout", hc.timeout() * SECOND_NS)
                    .put("Retries", hc.retries())
                    .put("StartPeriod", hc.startPeriod() * SECOND_NS));
        }

        JsonObject host = new JsonObject().put("NetworkMode", task.networkMode());
        if (!"host".equals(task.networkMode())) {
            host.put("PortBindings", bindings);
        }
        if (container.memory() != null) {
            host.put("Memory", container.memory() * MIB);
        }
        if (container.memoryReservation() != null) {
            host.put("MemoryReservation", container.memoryReservation() * MIB);
        }
        if (container.cpu() > 0) {
            // CPU units are relative weights, like Docker's shares (which start at 2).
            host.put("CpuShares", Math.max(2, container.cpu()));
        }
        JsonArray binds = new JsonArray();
        for (MountPoint m : container.mountPoints()) {
            Volume v = task.volumes().stream().filter(x -> x.name().equals(m.sourceVolume())).findFirst().orElseThrow();
            String source = v.host() != null ? v.host().sourcePath() : scratchVolume(taskId, v.name());
            binds.add(source + ":" + m.containerPath() + (m.readOnly() ? ":ro" : ""));
        }
        host.put("Binds", binds);
        host.put("RestartPolicy", new JsonObject().put("Name", "no"));
        body.put("HostConfig", host);
        return body;
    }

    /** The named volume that backs a task's scratch volume: created with the task, removed with it. */
    public static String scratchVolume(String taskId, String volume) {
        return "berth-" + taskId + "-" + volume;
    }

    /** The container's name: unique per task, readable in {@code docker ps}. */
    public static String containerName(String taskId, String container) {
        return "berth-" + container + "-" + taskId;
    }
}
