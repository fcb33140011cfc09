package dev.berth.agent.docker;

/** The Engine refused or failed a call: its HTTP status (0 when it could not be reached) and message. */
public final class DockerException extends RuntimeException {
    private final int status;

    public DockerException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public boolean notFound() {
        return status == 404;
    }
}
