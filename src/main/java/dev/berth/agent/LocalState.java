package dev.berth.agent;

import dev.berth.agent.protocol.Messages;
import dev.berth.deploy.model.DeployJson;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an agent must not forget across restarts, in one JSON file under its state directory: its
 * node id and token, the last snapshot applied, every task it owns with its containers, and the
 * reports not yet acknowledged. Written whole to a temporary file, flushed, then moved into place,
 * so that a crash leaves the old or the new file, never half of one.
 */
public final class LocalState {
    public String controller;
    public String nodeId;
    public String agentToken;
    public String cluster;
    public long lastSeq;
    public Map<String, LocalTask> tasks = new LinkedHashMap<>();
    /** Reports sent or to send, until the controller acknowledges them. */
    public List<Messages.TaskStateChange> outbox = new ArrayList<>();

    /** One task this node owns. */
    public static final class LocalTask {
        public Messages.TaskSpec spec;
        /** NEW (not started), RUNNING (containers started), CLEANING (stopped, removal to finish), DONE. */
        public String phase = NEW;
        /** Container name to Docker container id. */
        public Map<String, String> containers = new LinkedHashMap<>();
        public String reportedStatus;
        public String reportedHealth;
        public long reportSeq;
        /** The controller confirmed that this task, absent from its snapshot, may be stopped. */
        public boolean stopConfirmed;

        public static final String NEW = "NEW";
        public static final String RUNNING = "RUNNING";
        public static final String CLEANING = "CLEANING";
        public static final String DONE = "DONE";

        public boolean wantsStop() {
            return stopConfirmed || "STOPPED".equals(spec.desiredStatus());
        }
    }

    public static LocalState load(Path file) throws IOException {
        if (!Files.exists(file)) {
            return new LocalState();
        }
        return DeployJson.MAPPER.readValue(file.toFile(), LocalState.class);
    }

    public void save(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = DeployJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        // It holds the node's agent token: readable by its owner only (a leftover temporary file too).
        var ownerOnly = java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly))) {
            Files.setPosixFilePermissions(tmp, ownerOnly);
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        // The rename itself must survive a power loss too.
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some filesystems refuse to open a directory; the rename is still atomic
        }
    }

    /** A deep copy (through JSON). */
    public LocalState copy() {
        try {
            return DeployJson.MAPPER.readValue(DeployJson.MAPPER.writeValueAsBytes(this), LocalState.class);
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy the agent state", e);
        }
    }
}
