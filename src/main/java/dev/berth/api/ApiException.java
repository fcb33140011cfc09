package dev.berth.api;

/**
 * A control-plane error for the client: HTTP status, a code in the ECS style (e.g.
 * {@code InvalidParameter}), a message, and the request field at fault when there is one.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;

    public ApiException(int status, String code, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ApiException invalid(String field, String message) {
        return new ApiException(400, "InvalidParameter", message, field);
    }

    public static ApiException notFound(String field, String message) {
        return new ApiException(404, "NotFound", message, field);
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
