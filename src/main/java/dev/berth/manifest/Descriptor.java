package dev.berth.manifest;

import dev.berth.digest.Digest;
import java.util.List;
import java.util.Map;

/** A content descriptor as it appears in a manifest or index. */
public record Descriptor(String mediaType, Digest digest, long size, String artifactType,
                         Map<String, String> annotations, List<String> urls, Platform platform) {

    /** Whether the registry is expected to hold this content (false for foreign/non-distributable layers). */
    public boolean isDistributable() {
        return urls.isEmpty() && !MediaTypes.isNonDistributable(mediaType);
    }
}
