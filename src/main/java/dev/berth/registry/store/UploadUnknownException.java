package dev.berth.registry.store;

/** No upload session with that id in that repository (never started, finished, cancelled or purged). */
public final class UploadUnknownException extends Exception {
    public UploadUnknownException(String message) {
        super(message);
    }
}
