package dev.berth.deploy.state;

import dev.berth.deploy.model.DeployJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writes one command (or one group of commands) makes: documents to store or remove, by kind
 * and id. A document is encoded when it is put, so later changes to the live object do not leak
 * into this write; the last write of a document wins.
 */
public final class Changes {
    private record Write(String kind, String id, String doc) {
    }

    private final Map<String, Write> writes = new LinkedHashMap<>();
    /** Nodes whose tasks (or the node itself) changed: their agents may need a new snapshot. */
    private final java.util.Set<String> touchedNodes = new java.util.HashSet<>();

    public void touchNode(String nodeId) {
        if (nodeId != null) {
            touchedNodes.add(nodeId);
        }
    }

    public java.util.Set<String> touchedNodes() {
        return touchedNodes;
    }

    public void put(String kind, String id, Object document) {
        String doc;
        try {
            doc = DeployJson.MAPPER.writeValueAsString(document);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + kind + " " + id, e);
        }
        writes.put(kind + "\0" + id, new Write(kind, id, doc));
    }

    public void delete(String kind, String id) {
        writes.put(kind + "\0" + id, new Write(kind, id, null));
    }

    public boolean isEmpty() {
        return writes.isEmpty();
    }

    public int size() {
        return writes.size();
    }

    void addAll(Changes other) {
        touchedNodes.addAll(other.touchedNodes);
        for (Write w : other.writes.values()) {
            writes.remove(w.kind() + "\0" + w.id());
            writes.put(w.kind() + "\0" + w.id(), w);
        }
    }

    void write(Connection c, long now) throws java.sql.SQLException {
        try (PreparedStatement upsert = c.prepareStatement("INSERT INTO cp_object (kind, id, doc, updated_at)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at");
             PreparedStatement delete = c.prepareStatement("DELETE FROM cp_object WHERE kind = ? AND id = ?")) {
            for (Write w : writes.values()) {
                if (w.doc() == null) {
                    delete.setString(1, w.kind());
                    delete.setString(2, w.id());
                    delete.addBatch();
                } else {
                    upsert.setString(1, w.kind());
                    upsert.setString(2, w.id());
                    upsert.setString(3, w.doc());
                    upsert.setLong(4, now);
                    upsert.addBatch();
                }
            }
            upsert.executeBatch();
            delete.executeBatch();
        }
    }
}
