package dev.berth.registry;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;

/** What a manifest URL names: a tag or a digest. */
public sealed interface Reference permits Reference.ByTag, Reference.ByDigest {

    /**
     * A reference containing {@code :} is a digest (and must be a valid one); anything else is a tag.
     *
     * @throws InvalidDigestException for a malformed digest
     * @throws InvalidNameException   for a malformed tag
     */
    static Reference parse(String text) {
        if (text != null && text.indexOf(':') >= 0) {
            return new ByDigest(Digest.parse(text));
        }
        return new ByTag(Tag.of(text));
    }

    /** A manifest named by tag. */
    record ByTag(Tag tag) implements Reference {
        @Override
        public String toString() {
            return tag.value();
        }
    }

    /** A manifest named by digest. */
    record ByDigest(Digest digest) implements Reference {
        @Override
        public String toString() {
            return digest.toString();
        }
    }
}
