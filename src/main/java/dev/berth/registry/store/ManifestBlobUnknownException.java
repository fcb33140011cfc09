package dev.berth.registry.store;

import dev.berth.digest.Digest;
import java.util.List;

/** A pushed manifest references blobs or manifests the repository does not hold. */
public final class ManifestBlobUnknownException extends Exception {
    private final List<Digest> missing;

    public ManifestBlobUnknownException(List<Digest> missing) {
        super("manifest references unknown content: " + missing);
        this.missing = List.copyOf(missing);
    }

    public List<Digest> missing() {
        return missing;
    }
}
