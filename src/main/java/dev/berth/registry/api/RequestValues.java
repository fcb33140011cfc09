package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import dev.berth.registry.InvalidNameException;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.Optional;

/**
 * Typed values out of a request, each failing with the spec's error code when malformed:
 * {@code NAME_INVALID}, {@code DIGEST_INVALID}, {@code TAG_INVALID}, {@code PAGINATION_NUMBER_INVALID}.
 */
final class RequestValues {
    private RequestValues() {
    }

    /**
     * Where a handler finds the repository when another handler chose it (the mirror serves a
     * mirrored name from its cache repository).
     */
    static final String REPOSITORY_OVERRIDE = "berth.repository";

    static RepositoryName repository(RoutingContext ctx) {
        RepositoryName chosen = ctx.get(REPOSITORY_OVERRIDE);
        if (chosen != null) {
            return chosen;
        }
        String name = ctx.pathParam("name");
        if (!RepositoryName.isValid(name)) {
            throw new RegistryException(ErrorCode.NAME_INVALID, Map.of("name", String.valueOf(name)));
        }
        return RepositoryName.of(name);
    }

    static Digest digest(String text) {
        try {
            return Digest.parse(text);
        } catch (InvalidDigestException e) {
            throw new RegistryException(ErrorCode.DIGEST_INVALID, e.getMessage(), Map.of("digest", String.valueOf(text)));
        }
    }

    static Digest pathDigest(RoutingContext ctx) {
        return digest(ctx.pathParam("digest"));
    }

    static Tag tag(String text) {
        try {
            return Tag.of(text);
        } catch (InvalidNameException e) {
            throw new RegistryException(ErrorCode.TAG_INVALID, Map.of("tag", String.valueOf(text)));
        }
    }

    static Reference reference(RoutingContext ctx) {
        String text = ctx.pathParam("reference");
        try {
            return Reference.parse(text);
        } catch (InvalidDigestException e) {
            throw new RegistryException(ErrorCode.DIGEST_INVALID, e.getMessage(), Map.of("digest", text));
        } catch (InvalidNameException e) {
            throw new RegistryException(ErrorCode.TAG_INVALID, Map.of("tag", text));
        }
    }

    /** The {@code n} parameter of a paginated listing: empty when absent, else a number from 0 up. */
    static Optional<Integer> pageSize(RoutingContext ctx) {
        String n = ctx.request().getParam("n");
        if (n == null) {
            return Optional.empty();
        }
        try {
            int value = Integer.parseInt(n);
            if (value < 0) {
                throw new NumberFormatException();
            }
            return Optional.of(value);
        } catch (NumberFormatException e) {
            throw new RegistryException(ErrorCode.PAGINATION_NUMBER_INVALID, Map.of("n", n));
        }
    }
}
