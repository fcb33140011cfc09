package dev.berth.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link HmacSigner}: the {@code X-Berth-Signature} value, checked against RFC 4231's HMAC-SHA256 vectors. */
class HmacSignerTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void headerName() {
        assertEquals("X-Berth-Signature", HmacSigner.HEADER);
    }

    @Test
    void rfc4231TestCase2() {
        assertEquals("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                new HmacSigner("Jefe").sign(ascii("what do ya want for nothing?")));
    }

    @Test
    void rfc4231TestCase1() {
        // key = 20 bytes of 0x0b (valid one-byte UTF-8), data = "Hi There"
        assertEquals("sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                new HmacSigner("\u000b".repeat(20)).sign(ascii("Hi There")));
    }

    @Test
    void signatureIsLowercaseHexOfThirtyTwoBytes() {
        String s = new HmacSigner("secret").sign(ascii("{\"events\":[]}"));
        assertTrue(s.matches("sha256=[0-9a-f]{64}"), s);
    }

    @Test
    void signatureIsDeterministicAndReusable() {
        HmacSigner signer = new HmacSigner("secret");
        byte[] body = ascii("{\"events\":[{\"id\":\"1\"}]}");
        String first = signer.sign(body);
        assertEquals(first, signer.sign(body));
        assertEquals(first, new HmacSigner("secret").sign(body.clone()));
    }

    @Test
    void changingOneBodyByteChangesTheSignature() {
        HmacSigner signer = new HmacSigner("Jefe");
        byte[] body = ascii("what do ya want for nothing?");
        String original = signer.sign(body);
        for (int i = 0; i < body.length; i++) {
            byte[] changed = body.clone();
            changed[i] ^= 0x01;
            assertNotEquals(original, signer.sign(changed), "flipping a bit of byte " + i);
        }
        byte[] longer = new byte[body.length + 1];
        System.arraycopy(body, 0, longer, 0, body.length);
        assertNotEquals(original, signer.sign(longer), "one byte appended");
    }

    @Test
    void differentSecretsGiveDifferentSignatures() {
        byte[] body = ascii("{\"events\":[]}");
        assertNotEquals(new HmacSigner("a").sign(body), new HmacSigner("b").sign(body));
    }

    @Test
    void secretIsUsedAsUtf8Bytes() {
        // key bytes 63 6c c3 a9 ("clé" in UTF-8), data "body"
        assertEquals("sha256=021306b40a146dd2592f6907f3664e640efa2d50638837980e1486f1d7fed4e3",
                new HmacSigner("cl\u00e9").sign(ascii("body")));
    }

    @Test
    void emptyBodyIsSigned() {
        // HMAC-SHA256 with key "key" over the empty message
        assertEquals("sha256=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0",
                new HmacSigner("key").sign(new byte[0]));
    }
}
