package dev.berth.deploy.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A version range in the npm notation: comparators ({@code >=1.2.0 <2.0.0}), caret ({@code ^1.2}),
 * tilde ({@code ~1.2.3}), x-ranges ({@code 1.x}, {@code *}), hyphen ranges ({@code 1.0 - 1.4}) and
 * alternatives joined by {@code ||}. Prereleases match only when asked for, and then by precedence.
 */
public final class SemverRange {
    private final List<List<Predicate<Semver>>> alternatives;
    private final String text;

    private SemverRange(List<List<Predicate<Semver>>> alternatives, String text) {
        this.alternatives = alternatives;
        this.text = text;
    }

    public static SemverRange parse(String text) {
        if (text == null || text.isBlank() || text.length() > 256) {
            throw new IllegalArgumentException("a range such as ^1.2.0 or >=1.0.0 <2.0.0 is required");
        }
        List<List<Predicate<Semver>>> alternatives = new ArrayList<>();
        for (String alt : text.split("\\|\\|", -1)) {
            String a = alt.trim();
            List<Predicate<Semver>> all = new ArrayList<>();
            String[] hyphen = a.split("\\s+-\\s+");
            if (hyphen.length == 2) {
                Partial lo = Partial.parse(hyphen[0]);
                Partial hi = Partial.parse(hyphen[1]);
                all.add(v -> v.compareTo(lo.floor()) >= 0);
                all.add(hi.upperBound(false));
            } else if (a.isEmpty()) {
                throw new IllegalArgumentException("empty alternative in range " + text);
            } else {
                for (String comparator : a.replaceAll("(<=|>=|<|>|=|\\^|~)\\s+", "$1").split("\\s+")) {
                    all.add(comparator(comparator));
                }
            }
            alternatives.add(all);
        }
        return new SemverRange(alternatives, text);
    }

    private static Predicate<Semver> comparator(String c) {
        String op = c.startsWith(">=") || c.startsWith("<=") ? c.substring(0, 2)
                : c.startsWith(">") || c.startsWith("<") || c.startsWith("=") || c.startsWith("^") || c.startsWith("~")
                ? c.substring(0, 1) : "";
        Partial p = Partial.parse(c.substring(op.length()));
        Semver floor = p.floor();
        return switch (op) {
            case ">=" -> v -> v.compareTo(floor) >= 0;
            case ">" -> p.upperBound(false).negate();
            case "<" -> v -> v.compareTo(floor) < 0;
            case "<=" -> p.upperBound(false);
            case "^" -> {
                // Up to the next change of the leftmost non-zero part.
                Semver ceiling = p.major == null ? null
                        : p.major > 0 || p.minor == null ? new Semver(p.major + 1, 0, 0, List.of("0"))
                        : p.minor > 0 || p.patch == null ? new Semver(0, p.minor + 1, 0, List.of("0"))
                        : new Semver(0, 0, p.patch + 1, List.of("0"));
                yield v -> v.compareTo(floor) >= 0 && (ceiling == null || v.compareTo(ceiling) < 0);
            }
            case "~" -> {
                Semver ceiling = p.major == null ? null : p.minor == null ? new Semver(p.major + 1, 0, 0, List.of("0"))
                        : new Semver(p.major, p.minor + 1, 0, List.of("0"));
                yield v -> v.compareTo(floor) >= 0 && (ceiling == null || v.compareTo(ceiling) < 0);
            }
            default -> p.exact();
        };
    }

    /** True when {@code v} is in the range; prereleases only when {@code prereleases}. */
    public boolean matches(Semver v, boolean prereleases) {
        if (v.isPrerelease() && !prereleases) {
            return false;
        }
        for (List<Predicate<Semver>> all : alternatives) {
            if (all.stream().allMatch(p -> p.test(v))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }

    /** {@code 1}, {@code 1.2}, {@code 1.2.3}, {@code 1.x}, {@code *}, {@code 1.2.3-rc.1}: a version with parts left open. */
    private record Partial(Integer major, Integer minor, Integer patch, List<String> prerelease) {
        static Partial parse(String s) {
            String t = s.startsWith("v") ? s.substring(1) : s;
            if (t.equals("*") || t.equalsIgnoreCase("x") || t.isEmpty() && !s.isEmpty()) {
                return new Partial(null, null, null, List.of());
            }
            List<String> pre = List.of();
            int dash = t.indexOf('-');
            if (dash >= 0) {
                pre = List.of(t.substring(dash + 1).split("\\."));
                t = t.substring(0, dash);
            }
            String[] parts = t.split("\\.", -1);
            if (parts.length > 3 || t.isEmpty()) {
                throw new IllegalArgumentException("invalid version '" + s + "'");
            }
            Integer[] n = new Integer[3];
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].equals("*") || parts[i].equalsIgnoreCase("x")) {
                    break;
                }
                if (!parts[i].matches("0|[1-9]\\d{0,8}")) {
                    throw new IllegalArgumentException("invalid version '" + s + "'");
                }
                n[i] = Integer.parseInt(parts[i]);
            }
            if (!pre.isEmpty() && n[2] == null) {
                throw new IllegalArgumentException("a prerelease needs a full version: '" + s + "'");
            }
            return new Partial(n[0], n[1], n[2], pre);
        }

        Semver floor() {
            return new Semver(major == null ? 0 : major, minor == null ? 0 : minor, patch == null ? 0 : patch,
                    patch == null ? List.of("0") : prerelease);
        }

        /** {@code <= this}, with open parts covering everything they stand for. */
        Predicate<Semver> upperBound(boolean unused) {
            if (major == null) {
                return v -> true;
            }
            if (minor == null) {
                Semver next = new Semver(major + 1, 0, 0, List.of("0"));
                return v -> v.compareTo(next) < 0;
            }
            if (patch == null) {
                Semver next = new Semver(major, minor + 1, 0, List.of("0"));
                return v -> v.compareTo(next) < 0;
            }
            Semver exact = new Semver(major, minor, patch, prerelease);
            return v -> v.compareTo(exact) <= 0;
        }

        Predicate<Semver> exact() {
            Semver floor = floor();
            Predicate<Semver> upper = upperBound(false);
            return v -> v.compareTo(floor) >= 0 && upper.test(v);
        }
    }
}
