package dev.berth.notify;

import dev.berth.db.Migration;
import java.util.List;

/** The outbox's tables. Events are stored once; each endpoint that wants one gets a delivery row. */
public final class NotifySchema {
    private NotifySchema() {
    }

    public static final List<Migration> MIGRATIONS = List.of(new Migration(1, "webhook outbox", List.of(
            """
            CREATE TABLE notify_event (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              id TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              action TEXT NOT NULL,
              repository TEXT,
              tag TEXT,
              digest TEXT,
              media_type TEXT,
              payload TEXT NOT NULL
            )""",
            """
            CREATE TABLE notify_delivery (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              endpoint TEXT NOT NULL,
              event_seq INTEGER NOT NULL REFERENCES notify_event(seq),
              status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
              attempts INTEGER NOT NULL DEFAULT 0,
              next_attempt_at INTEGER NOT NULL,
              last_attempt_at INTEGER,
              delivered_at INTEGER,
              last_error TEXT
            )""",
            "CREATE INDEX notify_delivery_queue ON notify_delivery (endpoint, status, event_seq)",
            "CREATE INDEX notify_delivery_event ON notify_delivery (event_seq)",
            """
            CREATE TABLE notify_endpoint (
              name TEXT PRIMARY KEY,
              last_success_at INTEGER,
              last_error_at INTEGER,
              last_error TEXT
            )""",
            """
            CREATE TABLE notify_subscription (
              name TEXT PRIMARY KEY,
              cursor INTEGER NOT NULL
            )""")),
            new Migration(2, "outbox clean-up indexes", List.of(
                    "CREATE INDEX notify_delivery_done ON notify_delivery (status, delivered_at)",
                    "CREATE INDEX notify_event_created ON notify_event (created_at)")));
}
