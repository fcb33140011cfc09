package dev.berth.deploy.model;

import java.util.regex.Pattern;

/** A node attribute ({@code name}, optional {@code value}), matched by placement constraints and spread. */
public record Attribute(String name, String value) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_./-]{0,127}");
    private static final Pattern VALUE = Pattern.compile("[a-zA-Z0-9_.:/@ -]{1,128}");

    public Attribute normalize(String field) {
        Check.required(field + ".name", name);
        if (!NAME.matcher(name).matches()) {
            throw new FieldException(field + ".name", field + ".name must be 1-128 letters, digits, '_', '.', '/' or '-'");
        }
        if (value != null && !VALUE.matcher(value).matches()) {
            throw new FieldException(field + ".value", field + ".value must be 1-128 letters, digits, spaces or _.:/@-");
        }
        return this;
    }
}
