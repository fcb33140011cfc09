package dev.berth.manifest;

/** The manifest is not one the registry accepts; the message says why. */
public final class ManifestInvalidException extends Exception {
    public ManifestInvalidException(String message) {
        super(message);
    }
}
