package dev.berth.registry;

import java.util.regex.Pattern;

/**
 * A repository name per the OCI distribution spec: lowercase path components separated by
 * {@code /}, each made of alphanumerics joined by {@code .}, {@code _}, {@code __} or dashes; at
 * most 255 characters. No component can be empty, {@code .}, {@code ..} or start with {@code _},
 * which keeps names apart from the store's own {@code _layers}/{@code _manifests} directories.
 */
public record RepositoryName(String value) implements Comparable<RepositoryName> {
    public static final int MAX_LENGTH = 255;
    private static final Pattern GRAMMAR = Pattern.compile(
            "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");

    public RepositoryName {
        if (!isValid(value)) {
            throw new InvalidNameException("invalid repository name: " + abbreviate(value));
        }
    }

    public static RepositoryName of(String value) {
        return new RepositoryName(value);
    }

    public static boolean isValid(String value) {
        return value != null && !value.isEmpty() && value.length() <= MAX_LENGTH && GRAMMAR.matcher(value).matches();
    }

    static String abbreviate(String s) {
        if (s == null) {
            return "(none)";
        }
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    @Override
    public String toString() {
        return value;
    }

    @Override
    public int compareTo(RepositoryName o) {
        return value.compareTo(o.value);
    }
}
