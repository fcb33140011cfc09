package dev.berth.deploy.trigger;

/**
 * A manifest pushed by tag: {@code repository:tag} now points at {@code digest} in {@code registry}.
 * {@code registry} is {@link #THIS_REGISTRY} for pushes to this Berth (its event feed), the host a
 * hook named for another registry, or null when a hook did not say (then any registry matches).
 * {@code source} says who told us, for the deployment's trigger text.
 */
public record Push(String registry, String repository, String tag, String digest, String source) {
    public static final String THIS_REGISTRY = "";

    /** A push to this Berth. */
    public static Push local(String repository, String tag, String digest) {
        return new Push(THIS_REGISTRY, repository, tag, digest, null);
    }
}
