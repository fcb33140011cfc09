package dev.berth.registry.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A failure to report to the client: one or more errors (all sharing the first one's status),
 * plus headers the spec wants on that response (e.g. {@code Range} on a 416 during upload).
 * Handlers pass it to {@code ctx.fail(...)}; {@link RegistryFailureHandler} writes it.
 */
public final class RegistryException extends RuntimeException {
    /** One entry of the {@code errors} array. {@code detail} is a string, a map or null. */
    public record Error(ErrorCode code, String message, Object detail) {
    }

    private final List<Error> errors;
    private final Map<String, String> headers = new LinkedHashMap<>();

    public RegistryException(ErrorCode code) {
        this(code, code.message(), null);
    }

    public RegistryException(ErrorCode code, Object detail) {
        this(code, code.message(), detail);
    }

    public RegistryException(ErrorCode code, String message, Object detail) {
        this(List.of(new Error(code, message, detail)));
    }

    public RegistryException(List<Error> errors) {
        super(errors.get(0).code().code() + ": " + errors.get(0).message(), null, false, false);
        this.errors = List.copyOf(new ArrayList<>(errors));
    }

    public List<Error> errors() {
        return errors;
    }

    public int status() {
        return errors.get(0).code().status();
    }

    public Map<String, String> headers() {
        return headers;
    }

    public RegistryException header(String name, String value) {
        headers.put(name, value);
        return this;
    }
}
