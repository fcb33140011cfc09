package dev.berth.testing;

import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

/**
 * Large deterministic pseudo-random content that never lives in memory whole: block {@code i} of
 * 64 KiB is generated from {@code (seed, i)}, so any range can be streamed again.
 */
public record GeneratedContent(long seed, long length) {
    private static final int BLOCK = 1 << 16;

    /** A stream of bytes {@code [from, length)}. */
    public InputStream stream(long from) {
        return new InputStream() {
            private long position = from;
            private final byte[] block = new byte[BLOCK];
            private long blockIndex = -1;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (position >= length) {
                    return -1;
                }
                long index = position / BLOCK;
                if (index != blockIndex) {
                    new Random(seed * 1_000_003L + index).nextBytes(block);
                    blockIndex = index;
                }
                int inBlock = (int) (position % BLOCK);
                int n = (int) Math.min(Math.min(len, BLOCK - inBlock), length - position);
                System.arraycopy(block, inBlock, b, off, n);
                position += n;
                return n;
            }
        };
    }

    public String sha256() {
        try (InputStream in = stream(0)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[BLOCK];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
