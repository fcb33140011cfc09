package dev.berth.mirror;

import dev.berth.db.Migration;
import java.util.List;

/**
 * The mirror's accounting: one row per item (manifest or blob) fetched into a cache repository, with
 * its size and when it was last pulled, so that eviction can take the least recently pulled first.
 */
public final class MirrorSchema {
    private MirrorSchema() {
    }

    public static final List<Migration> MIGRATIONS = List.of(new Migration(201, "mirror cache accounting", List.of(
            """
            CREATE TABLE mirror_item (
              repository TEXT NOT NULL,
              digest TEXT NOT NULL,
              upstream TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('manifest', 'blob')),
              size INTEGER NOT NULL,
              cached_at INTEGER NOT NULL,
              last_pulled INTEGER NOT NULL,
              PRIMARY KEY (repository, digest)
            )""",
            "CREATE INDEX mirror_item_lru ON mirror_item (last_pulled, cached_at)")));
}
