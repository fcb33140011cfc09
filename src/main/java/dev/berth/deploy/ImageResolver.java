package dev.berth.deploy;

import dev.berth.deploy.model.ImageReference;
import io.vertx.core.Future;

/**
 * Finds the digest an image tag points at, so that a deployment can pin it. Berth resolves images
 * of its own registry; for others it answers null and the image runs as named.
 */
@FunctionalInterface
public interface ImageResolver {
    /** The digest ({@code sha256:…}) of {@code image}'s tag, or null when it cannot be told. */
    Future<String> resolve(ImageReference image);

    /** True when {@code registry} ({@code host[:port]}) names this Berth: pushes to it concern such images. */
    default boolean isThisRegistry(String registry) {
        return false;
    }

    ImageResolver NONE = image -> Future.succeededFuture(null);
}
