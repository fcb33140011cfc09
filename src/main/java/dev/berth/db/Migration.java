package dev.berth.db;

import java.util.List;

/** One schema version: the statements that bring the database from the previous version to this one. */
public record Migration(int version, String description, List<String> statements) {
}
