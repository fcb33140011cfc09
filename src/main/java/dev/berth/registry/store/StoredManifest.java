package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.manifest.Manifest;

/** A manifest as stored: the exact bytes that were pushed, their digest, and what they say. */
public record StoredManifest(Digest digest, byte[] bytes, Manifest manifest) {

    public String mediaType() {
        return manifest.mediaType();
    }
}
