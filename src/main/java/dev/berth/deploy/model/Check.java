package dev.berth.deploy.model;

import java.util.List;
import java.util.regex.Pattern;

/** Small validation steps shared by the request values; each throws a {@link FieldException} naming {@code field}. */
final class Check {
    /** ECS's rule for names (families, containers, volumes, services, clusters): letters, digits, '-' and '_'. */
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,255}");

    private Check() {
    }

    static String name(String field, String value) {
        required(field, value);
        if (!NAME.matcher(value).matches()) {
            throw new FieldException(field, field + " must be 1-255 letters, digits, hyphens or underscores: " + shorten(value));
        }
        return value;
    }

    static <T> T required(String field, T value) {
        if (value == null) {
            throw new FieldException(field, field + " is required");
        }
        return value;
    }

    static int range(String field, Integer value, int min, int max, int orElse) {
        if (value == null) {
            return orElse;
        }
        return range(field, value, min, max);
    }

    static int range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new FieldException(field, field + " must be between " + min + " and " + max + ", not " + value);
        }
        return value;
    }

    static <T> List<T> list(List<T> value) {
        return value == null ? List.of() : value;
    }

    static List<String> strings(String field, List<String> value, int maxEach) {
        if (value == null) {
            return null;
        }
        for (int i = 0; i < value.size(); i++) {
            String s = value.get(i);
            if (s == null) {
                throw new FieldException(field + "[" + i + "]", field + "[" + i + "] must be a string, not null");
            }
            if (s.length() > maxEach) {
                throw new FieldException(field + "[" + i + "]", field + "[" + i + "] is longer than " + maxEach + " characters");
            }
        }
        return List.copyOf(value);
    }

    static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
