package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.registry.Tag;
import java.util.List;

/** A manifest about to be deleted, with the tags that go with it. */
public record DeletedManifest(Digest digest, List<Tag> tags) {
}
