package dev.berth.digest;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest such as {@code sha256:6c3c…}. Instances only exist for supported algorithms
 * with a lowercase hex encoding of the right length, so {@link #hex()} can be used in storage keys
 * as is.
 */
public record Digest(DigestAlgorithm algorithm, String hex) implements Comparable<Digest> {

    /** The grammar of the OCI spec; anything matching it with an unknown algorithm is "unsupported". */
    private static final Pattern GRAMMAR =
            Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+");
    private static final Pattern LOWER_HEX = Pattern.compile("[a-f0-9]+");

    public Digest {
        if (algorithm == null || hex == null || hex.length() != algorithm.hexLength()
                || !LOWER_HEX.matcher(hex).matches()) {
            throw new InvalidDigestException("invalid " + algorithm + " digest encoding: " + hex);
        }
    }

    /**
     * Parses {@code algorithm:hex}.
     *
     * @throws InvalidDigestException when the string is malformed or names an unsupported algorithm
     */
    public static Digest parse(String text) {
        if (text == null || text.length() > 256 || !GRAMMAR.matcher(text).matches()) {
            throw new InvalidDigestException("invalid digest: " + abbreviate(text));
        }
        int colon = text.indexOf(':');
        String alg = text.substring(0, colon);
        DigestAlgorithm algorithm = DigestAlgorithm.byId(alg)
                .orElseThrow(() -> new InvalidDigestException("unsupported digest algorithm: " + alg));
        String hex = text.substring(colon + 1);
        if (hex.length() != algorithm.hexLength() || !LOWER_HEX.matcher(hex).matches()) {
            throw new InvalidDigestException("invalid " + alg + " digest: " + abbreviate(text));
        }
        return new Digest(algorithm, hex);
    }

    /** Whether the text parses as a digest (of any algorithm Berth supports). */
    public static boolean isDigest(String text) {
        try {
            parse(text);
            return true;
        } catch (InvalidDigestException e) {
            return false;
        }
    }

    /** The digest of {@code data} with {@code algorithm}. */
    public static Digest of(DigestAlgorithm algorithm, byte[] data) {
        return fromRaw(algorithm, algorithm.newMessageDigest().digest(data));
    }

    /** The sha256 digest of {@code data}. */
    public static Digest sha256(byte[] data) {
        return of(DigestAlgorithm.SHA256, data);
    }

    /** Wraps the raw output of a finished {@link MessageDigest} of {@code algorithm}. */
    public static Digest fromRaw(DigestAlgorithm algorithm, byte[] rawDigest) {
        return new Digest(algorithm, HexFormat.of().formatHex(rawDigest));
    }

    @Override
    public String toString() {
        return algorithm.id() + ":" + hex;
    }

    @Override
    public int compareTo(Digest o) {
        return toString().compareTo(o.toString());
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(none)";
        }
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
