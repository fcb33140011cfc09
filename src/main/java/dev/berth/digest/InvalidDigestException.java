package dev.berth.digest;

/** A string that is not a well-formed digest of a supported algorithm. */
public final class InvalidDigestException extends IllegalArgumentException {
    public InvalidDigestException(String message) {
        super(message);
    }
}
