package dev.berth.storage;

import java.time.Instant;

/** What a driver knows about a key: its size (0 for directories), last change and kind. */
public record FileInfo(String key, long size, Instant modTime, boolean isDirectory) {
}
