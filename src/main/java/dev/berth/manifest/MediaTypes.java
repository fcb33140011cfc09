package dev.berth.manifest;

import java.util.Locale;
import java.util.Set;

/** Media types the registry understands. */
public final class MediaTypes {
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
    public static final String DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public static final String OCI_NONDISTRIBUTABLE_PREFIX = "application/vnd.oci.image.layer.nondistributable.";

    /** The manifest media types a PUT may carry. */
    public static final Set<String> MANIFESTS = Set.of(DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX);

    private MediaTypes() {
    }

    public static boolean isIndex(String mediaType) {
        return DOCKER_MANIFEST_LIST.equals(mediaType) || OCI_INDEX.equals(mediaType);
    }

    /** The media type without parameters, lowercased; null for null or blank. */
    public static String essence(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semi = contentType.indexOf(';');
        String t = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return t.isEmpty() ? null : t;
    }

    /** Layers that registries never hold (the client fetches them from their {@code urls}). */
    public static boolean isNonDistributable(String mediaType) {
        return DOCKER_FOREIGN_LAYER.equals(mediaType)
                || (mediaType != null && mediaType.startsWith(OCI_NONDISTRIBUTABLE_PREFIX));
    }
}
