package dev.berth.registry.store;

/**
 * The session's stored data does not end where the request assumed (another process wrote to it,
 * or an earlier request failed part-way, or it was already committed for completion): nothing was
 * appended. {@link #size()} is how much the session really holds; the client resumes from there.
 */
public final class UploadRangeException extends Exception {
    private final long size;

    public UploadRangeException(String message, long size) {
        super(message);
        this.size = size;
    }

    public long size() {
        return size;
    }
}
