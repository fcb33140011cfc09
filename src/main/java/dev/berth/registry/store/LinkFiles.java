package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Link files: small objects that hold the digest they point at, as text, written atomically. */
final class LinkFiles {
    private LinkFiles() {
    }

    static void write(StorageDriver driver, String key, Digest digest) throws IOException {
        driver.putContent(key, digest.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The digest in the link at {@code key}; null when there is none. */
    static Digest read(StorageDriver driver, String key) throws IOException {
        try {
            return Digest.parse(new String(driver.getContent(key), StandardCharsets.UTF_8).trim());
        } catch (PathNotFoundException e) {
            return null;
        } catch (InvalidDigestException e) {
            throw new IOException("corrupt link " + key + ": " + e.getMessage(), e);
        }
    }
}
