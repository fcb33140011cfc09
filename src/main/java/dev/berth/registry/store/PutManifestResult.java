package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.registry.Tag;
import java.util.List;

/** What a manifest push stored: the digest, the tags now pointing at it, and its subject if any. */
public record PutManifestResult(Digest digest, List<Tag> tags, Digest subject) {
}
