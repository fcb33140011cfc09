package dev.berth.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A byte count written like {@code 4MiB}, {@code 512KiB}, {@code 1GiB}, {@code 100MB} or {@code 4096}. */
public record DataSize(long bytes) {
    private static final Pattern FORMAT = Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?");

    public DataSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("size must not be negative: " + bytes);
        }
    }

    public static DataSize ofBytes(long bytes) {
        return new DataSize(bytes);
    }

    public static DataSize ofMebibytes(long mib) {
        return new DataSize(mib << 20);
    }

    public static DataSize parse(String text) {
        Matcher m = FORMAT.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 4096, 512KiB, 4MiB, 1GiB)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        long factor = switch (unit) {
            case "b" -> 1L;
            case "kb" -> 1_000L;
            case "kib" -> 1L << 10;
            case "mb" -> 1_000_000L;
            case "mib" -> 1L << 20;
            case "gb" -> 1_000_000_000L;
            case "gib" -> 1L << 30;
            case "tb" -> 1_000_000_000_000L;
            case "tib" -> 1L << 40;
            default -> throw new IllegalArgumentException("unknown size unit in '" + text + "'");
        };
        return new DataSize(Math.multiplyExact(n, factor));
    }

    @Override
    public String toString() {
        for (String unit : new String[] {"TiB", "GiB", "MiB", "KiB"}) {
            int shift = switch (unit) {
                case "TiB" -> 40;
                case "GiB" -> 30;
                case "MiB" -> 20;
                default -> 10;
            };
            if (bytes != 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + unit;
            }
        }
        return Long.toString(bytes);
    }
}
