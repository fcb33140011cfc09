package dev.berth.deploy.model;

import java.util.regex.Pattern;

/** An environment variable of a container ({@code environment[]}). */
public record KeyValuePair(String name, String value) {
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,255}");

    KeyValuePair normalize(String field) {
        Check.required(field + ".name", name);
        if (!ENV_NAME.matcher(name).matches()) {
            throw new FieldException(field + ".name", field + ".name is not a valid environment variable name: "
                    + Check.shorten(name));
        }
        if (value != null && value.length() > 32_768) {
            throw new FieldException(field + ".value", field + ".value is longer than 32768 characters");
        }
        return new KeyValuePair(name, value == null ? "" : value);
    }
}
