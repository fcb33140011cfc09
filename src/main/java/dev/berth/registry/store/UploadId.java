package dev.berth.registry.store;

import java.util.UUID;
import java.util.regex.Pattern;

/** The identifier of an upload session: a random UUID in its canonical lowercase form. */
public record UploadId(String value) {
    private static final Pattern FORMAT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    public UploadId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("invalid upload id");
        }
    }

    public static UploadId random() {
        return new UploadId(UUID.randomUUID().toString());
    }

    public static boolean isValid(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }

    @Override
    public String toString() {
        return value;
    }
}
