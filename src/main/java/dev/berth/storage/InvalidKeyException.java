package dev.berth.storage;

/** A key outside the driver key grammar; a programming error in the caller, never user input. */
public final class InvalidKeyException extends IllegalArgumentException {
    public InvalidKeyException(String message) {
        super(message);
    }
}
