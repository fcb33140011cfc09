package dev.berth.registry.store;

import dev.berth.digest.Digest;

/** A stored blob: its digest and size. */
public record BlobInfo(Digest digest, long size) {
}
