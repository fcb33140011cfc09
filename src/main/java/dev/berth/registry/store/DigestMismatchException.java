package dev.berth.registry.store;

import dev.berth.digest.Digest;

/** Uploaded content does not hash to the digest the client named. */
public final class DigestMismatchException extends Exception {
    private final Digest expected;
    private final Digest actual;

    public DigestMismatchException(Digest expected, Digest actual) {
        super("content digest " + actual + " does not match " + expected);
        this.expected = expected;
        this.actual = actual;
    }

    public Digest expected() {
        return expected;
    }

    public Digest actual() {
        return actual;
    }
}
