package dev.berth.registry.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One inclusive byte range, from an HTTP {@code Range} request header or an upload's
 * {@code Content-Range}.
 */
record ByteRange(long start, long end) {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    private static final Pattern CONTENT_RANGE = Pattern.compile("(?:bytes[ =])?(\\d{1,19})-(\\d{1,19})(?:/(?:\\d{1,19}|\\*))?");

    long length() {
        return end - start + 1;
    }

    /** The range is malformed, has several parts, or lies outside the content. */
    static final class Unsatisfiable extends Exception {
        Unsatisfiable() {
            super(null, null, false, false);
        }
    }

    /**
     * The range a {@code Range} header asks for within content of {@code size} bytes, or null for the
     * whole content. As RFC 9110 says, a header that is absent, malformed, in another unit, or asks
     * for several ranges (not supported) is ignored; a well-formed single range that lies wholly past
     * the end is unsatisfiable (416).
     */
    static ByteRange ofRequest(String header, long size) throws Unsatisfiable {
        if (header == null) {
            return null;
        }
        Matcher m = RANGE.matcher(header.trim());
        if (!m.matches()) {
            return null;
        }
        String first = m.group(1);
        String last = m.group(2);
        if (first.isEmpty()) {
            if (last.isEmpty()) {
                return null;
            }
            long suffix = number(last);
            if (suffix == 0 || size == 0) {
                throw new Unsatisfiable();
            }
            return new ByteRange(Math.max(0, size - suffix), size - 1);
        }
        long start = number(first);
        if (!last.isEmpty() && number(last) < start) {
            return null;
        }
        if (start >= size) {
            throw new Unsatisfiable();
        }
        return new ByteRange(start, last.isEmpty() ? size - 1 : Math.min(number(last), size - 1));
    }

    /** A non-negative decimal; -1 when empty; values beyond a long saturate (they lie past any content). */
    private static long number(String digits) {
        if (digits.isEmpty()) {
            return -1;
        }
        String trimmed = digits.replaceFirst("^0+(?=\\d)", "");
        return trimmed.length() > 18 ? Long.MAX_VALUE : Long.parseLong(trimmed);
    }

    /** An upload chunk's {@code Content-Range}: {@code start-end}, also with a {@code bytes} prefix and a total. */
    static ByteRange ofUploadChunk(String header) throws Unsatisfiable {
        Matcher m = CONTENT_RANGE.matcher(header.trim());
        if (!m.matches()) {
            throw new Unsatisfiable();
        }
        try {
            long start = Long.parseLong(m.group(1));
            long end = Long.parseLong(m.group(2));
            if (end < start) {
                throw new Unsatisfiable();
            }
            return new ByteRange(start, end);
        } catch (NumberFormatException e) {
            throw new Unsatisfiable();
        }
    }
}
