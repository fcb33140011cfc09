package dev.berth.deploy.model;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import java.util.regex.Pattern;

/**
 * An image as a container definition names it: {@code [registry/]repository[:tag][@digest]}, the
 * form docker accepts. The registry part is present when the first path component looks like a
 * host (has a dot or a port, or is {@code localhost}). Deployments pin images by adding the digest
 * ({@link #pinned}), keeping the tag for people to read.
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {
    private static final Pattern HOST = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?"
                    + "|\\[[0-9a-fA-F:.]+\\](?::[0-9]{1,5})?");

    /** Parses {@code text}; the message of the exception says what is wrong, for a {@link FieldException}. */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an image is required");
        }
        if (text.length() > 512) {
            throw new IllegalArgumentException("image reference longer than 512 characters");
        }
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse(rest.substring(at + 1));
            } catch (InvalidDigestException e) {
                throw new IllegalArgumentException("invalid digest in image reference " + text + ": " + e.getMessage());
            }
            rest = rest.substring(0, at);
        }
        String registry = null;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")) {
                if (!HOST.matcher(first).matches()) {
                    throw new IllegalArgumentException("invalid registry host in image reference " + text);
                }
                registry = first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!Tag.isValid(tag)) {
                throw new IllegalArgumentException("invalid tag in image reference " + text);
            }
        }
        if (!RepositoryName.isValid(rest)) {
            throw new IllegalArgumentException("invalid repository name in image reference " + text
                    + " (lowercase letters, digits and separators)");
        }
        return new ImageReference(registry, rest, tag, digest);
    }

    /** The same image pinned to {@code digest}, keeping registry and tag. */
    public ImageReference pinned(Digest digest) {
        return new ImageReference(registry, repository, tag, digest);
    }

    /** Without registry host: what Berth's own registry calls the repository. */
    public String repositoryPath() {
        return repository;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (registry != null) {
            b.append(registry).append('/');
        }
        b.append(repository);
        if (tag != null) {
            b.append(':').append(tag);
        }
        if (digest != null) {
            b.append('@').append(digest);
        }
        return b.toString();
    }
}
