package dev.berth.registry.store;

import dev.berth.digest.Digest;
import java.util.Map;

/** One entry of a referrers response: a manifest whose {@code subject} is the asked-for digest. */
public record Referrer(String mediaType, Digest digest, long size, String artifactType, Map<String, String> annotations) {
}
