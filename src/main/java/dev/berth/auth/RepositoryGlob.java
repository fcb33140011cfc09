package dev.berth.auth;

import java.util.regex.Pattern;

/**
 * A repository name pattern: {@code *} matches within one path segment (no {@code /}), {@code **}
 * matches across segments; everything else matches itself. {@code team/**} matches every
 * repository below {@code team/}; {@code team/*} only {@code team/app}, not {@code team/a/b}.
 */
public final class RepositoryGlob {
    private final String glob;
    private final Pattern pattern;

    private RepositoryGlob(String glob, Pattern pattern) {
        this.glob = glob;
        this.pattern = pattern;
    }

    public static RepositoryGlob of(String glob) {
        if (glob == null || glob.isEmpty() || !glob.matches("[a-z0-9._/*-]+")) {
            throw new IllegalArgumentException("'" + glob + "' is not a repository glob (lower-case letters, digits, "
                    + "'.', '_', '-', '/', '*' and '**')");
        }
        // The same globs as webhook filters, without '?'.
        return new RepositoryGlob(glob, dev.berth.notify.EventFilter.globToPattern(glob));
    }

    public boolean matches(String repository) {
        return repository != null && pattern.matcher(repository).matches();
    }

    @Override
    public String toString() {
        return glob;
    }
}
