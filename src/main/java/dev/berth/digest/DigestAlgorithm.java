package dev.berth.digest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/** The digest algorithms Berth accepts, with the length of their hex encoding. */
public enum DigestAlgorithm {
    SHA256("sha256", "SHA-256", 64),
    SHA512("sha512", "SHA-512", 128);

    private final String id;
    private final String jcaName;
    private final int hexLength;

    DigestAlgorithm(String id, String jcaName, int hexLength) {
        this.id = id;
        this.jcaName = jcaName;
        this.hexLength = hexLength;
    }

    /** The algorithm identifier used in digest strings and storage keys, e.g. {@code sha256}. */
    public String id() {
        return id;
    }

    /** Length of the lowercase hex encoding of a digest of this algorithm. */
    public int hexLength() {
        return hexLength;
    }

    /** A fresh hashing state for this algorithm. */
    public MessageDigest newMessageDigest() {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jcaName + " missing from the JDK", e);
        }
    }

    /** The algorithm with this identifier, if Berth supports it. */
    public static Optional<DigestAlgorithm> byId(String id) {
        for (DigestAlgorithm a : values()) {
            if (a.id.equals(id)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
