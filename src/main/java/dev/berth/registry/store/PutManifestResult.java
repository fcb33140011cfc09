package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.manifest.Manifest;
import dev.berth.registry.Tag;
import java.util.List;

/**
 * What a manifest push stored: the digest, the tags now pointing at it, its subject if any, and the
 * manifest itself with its size in bytes.
 */
public record PutManifestResult(Digest digest, List<Tag> tags, Digest subject, Manifest manifest, long size) {
}
