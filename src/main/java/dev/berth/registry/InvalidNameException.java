package dev.berth.registry;

/** A repository name or tag outside its grammar. */
public final class InvalidNameException extends IllegalArgumentException {
    public InvalidNameException(String message) {
        super(message);
    }
}
