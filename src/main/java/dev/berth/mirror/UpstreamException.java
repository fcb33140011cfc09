package dev.berth.mirror;

/**
 * The upstream registry could not be used: it refused (status 401/403, with what it said), failed
 * (5xx, 429) or did not answer ({@code status} 0: connection error or timeout).
 */
public final class UpstreamException extends Exception {
    private final String upstream;
    private final int status;

    public UpstreamException(String upstream, int status, String message, Throwable cause) {
        super("upstream " + upstream + ": " + message, cause);
        this.upstream = upstream;
        this.status = status;
    }

    public String upstream() {
        return upstream;
    }

    /** The upstream's HTTP status, or 0 when it did not answer. */
    public int status() {
        return status;
    }

    /** Whether this is trouble on the upstream's side (unreachable, 5xx, 429) rather than a refusal. */
    public boolean isUnavailable() {
        return status == 0 || status == 429 || status >= 500;
    }
}
