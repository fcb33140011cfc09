package dev.berth.deploy.model;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version as found in image tags ({@code 1.4.2}, {@code v2.0.0-rc.1}), ordered by
 * semver precedence: build metadata is ignored, a prerelease sorts before its release, prerelease
 * identifiers compare numerically when numeric.
 */
public record Semver(int major, int minor, int patch, List<String> prerelease) implements Comparable<Semver> {
    private static final Pattern GRAMMAR = Pattern.compile(
            "v?(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})"
                    + "(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?");

    /** The version a tag names, or null when the tag is not a full semantic version. */
    public static Semver parseTag(String tag) {
        Matcher m = GRAMMAR.matcher(tag);
        if (!m.matches()) {
            return null;
        }
        List<String> pre = m.group(4) == null ? List.of() : List.of(m.group(4).split("\\."));
        return new Semver(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), pre);
    }

    public boolean isPrerelease() {
        return !prerelease.isEmpty();
    }

    @Override
    public int compareTo(Semver o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        if (c == 0) {
            c = Integer.compare(patch, o.patch);
        }
        if (c != 0) {
            return c;
        }
        if (prerelease.isEmpty() || o.prerelease.isEmpty()) {
            return Boolean.compare(prerelease.isEmpty(), o.prerelease.isEmpty());
        }
        for (int i = 0; i < Math.min(prerelease.size(), o.prerelease.size()); i++) {
            String a = prerelease.get(i);
            String b = o.prerelease.get(i);
            boolean an = a.chars().allMatch(Character::isDigit);
            boolean bn = b.chars().allMatch(Character::isDigit);
            int d;
            if (an && bn) {
                d = a.length() != b.length() ? Integer.compare(a.length(), b.length()) : a.compareTo(b);
            } else if (an != bn) {
                d = an ? -1 : 1;
            } else {
                d = a.compareTo(b);
            }
            if (d != 0) {
                return d;
            }
        }
        return Integer.compare(prerelease.size(), o.prerelease.size());
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (prerelease.isEmpty() ? "" : "-" + String.join(".", prerelease));
    }
}
