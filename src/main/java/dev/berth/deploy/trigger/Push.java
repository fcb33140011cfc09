package dev.berth.deploy.trigger;

/** A manifest pushed by tag: {@code repository:tag} now points at {@code digest}. {@code source} says who told us. */
public record Push(String repository, String tag, String digest, String source) {
}
