package dev.berth.agent.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.Requests;
import dev.berth.deploy.model.TaskDefinition;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The protocol's messages, and the frame that carries one. */
public final class Messages {
    /** Bumped on incompatible changes; the controller refuses agents that speak another version. */
    public static final int PROTOCOL_VERSION = 1;

    private Messages() {
    }

    /** One WebSocket text frame. */
    public record Frame(String type, JsonNode message) {
    }

    /** Agent → controller, first frame of a session: who it is and the last snapshot it applied. */
    public record Hello(int protocolVersion, String agentVersion, long lastSeq) {
    }

    /**
     * Controller → agent: every task the node should know about; {@code seq} grows with every change.
     * {@code registryAuth}: when the controller's registry needs credentials, one per registry host
     * ({@code host:port} as image names spell it), granting pull on exactly the repositories of the
     * images in {@code tasks}, short-lived (a fresh one comes in a new snapshot before it ends).
     */
    public record DesiredState(long seq, List<TaskSpec> tasks, Map<String, RegistryAuth> registryAuth) {
        public DesiredState(long seq, List<TaskSpec> tasks) {
            this(seq, tasks, null);
        }
    }

    /** A pull credential, as Docker's X-Registry-Auth takes it. */
    public record RegistryAuth(String username, String password) {
        @Override
        public String toString() {
            return "RegistryAuth[" + username + "]"; // never the secret
        }
    }

    /**
     * One task as the node must run it: its definition, the pinned image of each container, and the
     * desired status (RUNNING, or STOPPED for a task being stopped).
     */
    public record TaskSpec(String taskArn, String desiredStatus, long version, TaskDefinition taskDefinition,
                           Map<String, String> images, String cluster) {
    }

    /** Agent → controller: snapshot {@code seq} is applied and persisted. */
    public record Ack(long seq) {
    }

    /** Agent → controller: a task's new state; {@code seq} counts this task's reports. */
    public record TaskStateChange(String taskArn, long seq, String status, String reason,
                                  List<Requests.ContainerStateChange> containers, String healthStatus) {
    }

    /** Controller → agent: report {@code seq} of {@code taskArn} is stored. */
    public record StateAck(String taskArn, long seq) {
    }

    /** Both ways, every 10 s. */
    public record Heartbeat(Instant sentAt) {
    }

    /**
     * Agent → controller, first step of stopping what the controller no longer wants on the node
     * (after a partition, tasks replaced elsewhere): these run here but are not in the snapshot.
     */
    public record StopCandidates(long requestId, List<String> taskArns) {
    }

    /** Controller → agent, second step: of the candidates, these may be stopped. */
    public record StopConfirm(long requestId, List<String> taskArns) {
    }

    /** Controller → agent: stream a container's logs for {@code requestId}. */
    public record LogsRequest(String requestId, String taskArn, String container, boolean follow, int tail) {
    }

    /** Agent → controller: a piece of log output, or the end ({@code end}; {@code error} when it failed). */
    public record LogsData(String requestId, String data, boolean end, String error) {
    }

    /** Controller → agent: stop streaming {@code requestId} (the reader went away). */
    public record LogsCancel(String requestId) {
    }

    /**
     * Agent → controller: a certificate request (PEM PKCS#10) for a new key, to renew the node's
     * client certificate before it expires. Only over a session opened with the current one.
     */
    public record RenewCertificate(String csr) {
    }

    /**
     * Controller → agent: the renewed client certificate (PEM, then the authority's), or why not
     * ({@code error}; the agent keeps its certificate and asks again later).
     */
    public record Certificate(String certificate, String error) {
    }

    /** Encodes {@code message} in a frame named after its record type. */
    public static String encode(Record message) {
        try {
            return DeployJson.MAPPER.writeValueAsString(new Frame(message.getClass().getSimpleName(),
                    DeployJson.MAPPER.valueToTree(message)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
        }
    }

    public static Frame decode(String text) throws IOException {
        Frame f = DeployJson.MAPPER.readValue(text, Frame.class);
        if (f.type() == null || f.message() == null) {
            throw new IOException("a frame needs a type and a message");
        }
        return f;
    }

    public static <T> T read(Frame frame, Class<T> type) throws IOException {
        return DeployJson.MAPPER.treeToValue(frame.message(), type);
    }
}
