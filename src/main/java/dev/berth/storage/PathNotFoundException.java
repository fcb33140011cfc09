package dev.berth.storage;

import java.io.IOException;

/** The key names nothing in the store. */
public final class PathNotFoundException extends IOException {
    private final String key;

    public PathNotFoundException(String key) {
        this(key, null);
    }

    public PathNotFoundException(String key, String driver) {
        super((driver == null ? "" : driver + ": ") + "path not found: " + key);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
