package dev.berth.deploy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON mapping of control-plane documents, for the API and the store alike: unknown fields
 * are refused (a misspelt field must not be silently ignored), nulls are left out, times are
 * ISO-8601 text.
 */
public final class DeployJson {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false)
            .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true)
            .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private DeployJson() {
    }

    /** Reads a request body as {@code type}; what cannot be read becomes a {@link FieldException} naming the field. */
    public static <T> T readRequest(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            body = "{}";
        }
        try {
            return MAPPER.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            String field = path(e);
            throw new FieldException(field, "unknown field " + field);
        } catch (InvalidFormatException e) {
            String field = path(e);
            throw new FieldException(field, field + " has the wrong type or format (" + e.getValue() + ")");
        } catch (MismatchedInputException e) {
            String field = path(e);
            if (field.isEmpty()) {
                throw new FieldException(null, "the request body must be a JSON object");
            }
            throw new FieldException(field, field + " has the wrong type"
                    + (e.getTargetType() == null ? "" : " (expected " + describe(e.getTargetType()) + ")"));
        } catch (JsonMappingException e) {
            String field = path(e);
            throw new FieldException(field.isEmpty() ? null : field, "cannot read " + (field.isEmpty() ? "the request" : field)
                    + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new FieldException(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String describe(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    /** {@code a.b[2].c} from Jackson's reference path. */
    static String path(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (b.length() > 0) {
                    b.append('.');
                }
                b.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    /** A deep copy through JSON: documents leave the controller's context only as copies. */
    public static <T> T copy(T value, Class<T> type) {
        try {
            return MAPPER.readValue(MAPPER.writeValueAsBytes(value), type);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot copy " + type.getSimpleName(), e);
        }
    }
}
