package dev.berth.deploy.model;

/**
 * A control-plane request that is well formed but cannot be done, with the ECS error code that says
 * why ({@code ClusterNotFoundException}, {@code ClusterContainsServicesException}, …) and the HTTP
 * status the API answers with.
 */
public final class ControlPlaneException extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;

    public ControlPlaneException(int status, String code, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ControlPlaneException notFound(String code, String field, String message) {
        return new ControlPlaneException(404, code, message, field);
    }

    public static ControlPlaneException conflict(String code, String field, String message) {
        return new ControlPlaneException(409, code, message, field);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }
}
