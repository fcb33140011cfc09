package dev.berth.deploy.model;

/**
 * A request value the control plane refuses, naming the field at fault as a path into the request
 * ({@code containerDefinitions[0].portMappings[1].hostPort}); the API answers it with 400.
 */
public final class FieldException extends RuntimeException {
    private final String field;

    public FieldException(String field, String message) {
        super(message, null, false, false);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
