package dev.berth.manifest;

import java.util.List;
import java.util.Map;

/**
 * What the registry needs to know of a manifest or index. For image manifests {@code config} is
 * set and {@code manifests} is empty; for indexes it is the other way round.
 */
public record Manifest(String mediaType, Descriptor config, List<Descriptor> layers, List<Descriptor> manifests,
                       Descriptor subject, String artifactType, Map<String, String> annotations) {

    public boolean isIndex() {
        return MediaTypes.isIndex(mediaType);
    }

    /**
     * The artifact type the referrers API reports: {@code artifactType} when set, else the config
     * media type of an image manifest; null for an index without one.
     */
    public String effectiveArtifactType() {
        if (artifactType != null) {
            return artifactType;
        }
        return config == null ? null : config.mediaType();
    }
}
