package dev.berth.deploy.state;

import dev.berth.db.Migration;
import java.util.List;

/**
 * The control plane's tables. Numbered from 101 so that they never collide with the outbox's
 * migrations in the same database.
 */
public final class ControlPlaneSchema {
    private ControlPlaneSchema() {
    }

    public static final List<Migration> MIGRATIONS = List.of(new Migration(101, "control plane documents", List.of(
            """
            CREATE TABLE cp_object (
              kind TEXT NOT NULL,
              id TEXT NOT NULL,
              doc TEXT NOT NULL,
              updated_at INTEGER NOT NULL,
              PRIMARY KEY (kind, id)
            )""")));
}
