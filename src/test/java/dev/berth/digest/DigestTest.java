package dev.berth.digest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {
    private static final String SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static final String SHA512_EMPTY = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    private static final String SHA512_ABC = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    @Test
    void parsesSha256() {
        Digest d = Digest.parse("sha256:" + SHA256_ABC);
        assertEquals(DigestAlgorithm.SHA256, d.algorithm());
        assertEquals(SHA256_ABC, d.hex());
        assertEquals("sha256:" + SHA256_ABC, d.toString());
        assertTrue(Digest.isDigest("sha256:" + SHA256_ABC));
    }

    @Test
    void parsesSha512() {
        Digest d = Digest.parse("sha512:" + SHA512_ABC);
        assertEquals(DigestAlgorithm.SHA512, d.algorithm());
        assertEquals(SHA512_ABC, d.hex());
        assertEquals("sha512:" + SHA512_ABC, d.toString());
        assertTrue(Digest.isDigest("sha512:" + SHA512_ABC));
    }

    @Test
    void parseAndToStringRoundTrip() {
        for (String text : new String[] {"sha256:" + SHA256_EMPTY, "sha512:" + SHA512_EMPTY}) {
            Digest d = Digest.parse(text);
            assertEquals(text, d.toString());
            assertEquals(d, Digest.parse(d.toString()));
        }
    }

    @Test
    void equalityIsByValue() {
        assertEquals(Digest.parse("sha256:" + SHA256_ABC), Digest.parse("sha256:" + SHA256_ABC));
        assertEquals(Digest.parse("sha256:" + SHA256_ABC).hashCode(), Digest.parse("sha256:" + SHA256_ABC).hashCode());
        assertNotEquals(Digest.parse("sha256:" + SHA256_ABC), Digest.parse("sha256:" + SHA256_EMPTY));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {
            // uppercase hex
            "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
            "sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            // uppercase algorithm
            "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            // wrong lengths: one short, one long, a sha256 hex under sha512 and vice versa
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
            "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            // unknown algorithms (sha384 with a correctly sized hex, md5 with a correctly sized hex)
            "sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            "md5:900150983cd24fb0d6963f7d28e17f72",
            // missing colon, empty parts
            "sha256ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256:",
            ":ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ":",
            // whitespace
            " sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ",
            "sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
            " ",
            // non-hex characters of the right length
            "sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001-ad",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001=ad",
            // two colons, path-like
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad:x",
            "sha256:../../ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2",
    })
    void rejectsMalformedDigests(String text) {
        assertThrows(InvalidDigestException.class, () -> Digest.parse(text));
        assertFalse(Digest.isDigest(text));
    }

    @Test
    void rejectsOverlongInput() {
        String overlong = "sha256:" + "a".repeat(10_000);
        InvalidDigestException e = assertThrows(InvalidDigestException.class, () -> Digest.parse(overlong));
        // the message must not echo ten thousand characters back
        assertTrue(e.getMessage().length() < 200, e.getMessage());
        assertFalse(Digest.isDigest(overlong));
    }

    @Test
    void invalidDigestExceptionIsAnIllegalArgumentException() {
        // callers that catch IllegalArgumentException for bad input rely on this
        assertTrue(IllegalArgumentException.class.isAssignableFrom(InvalidDigestException.class));
    }

    @ParameterizedTest
    @CsvSource({
            "'',    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "abc,   ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    })
    void sha256OfKnownContent(String content, String hex) {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        assertEquals("sha256:" + hex, Digest.of(DigestAlgorithm.SHA256, data).toString());
        assertEquals("sha256:" + hex, Digest.sha256(data).toString());
    }

    @Test
    void sha512OfKnownContent() {
        assertEquals("sha512:" + SHA512_EMPTY, Digest.of(DigestAlgorithm.SHA512, new byte[0]).toString());
        assertEquals("sha512:" + SHA512_ABC,
                Digest.of(DigestAlgorithm.SHA512, "abc".getBytes(StandardCharsets.UTF_8)).toString());
    }

    @Test
    void fromRawEncodesLowercaseHex() {
        byte[] raw = HexFormat.of().parseHex(SHA256_ABC);
        Digest d = Digest.fromRaw(DigestAlgorithm.SHA256, raw);
        assertEquals(Digest.parse("sha256:" + SHA256_ABC), d);
        assertArrayEquals(raw, HexFormat.of().parseHex(d.hex()));

        byte[] raw512 = HexFormat.of().parseHex(SHA512_EMPTY);
        assertEquals(Digest.parse("sha512:" + SHA512_EMPTY), Digest.fromRaw(DigestAlgorithm.SHA512, raw512));
    }

    @Test
    void fromRawRejectsWrongLength() {
        assertThrows(InvalidDigestException.class, () -> Digest.fromRaw(DigestAlgorithm.SHA256, new byte[31]));
        assertThrows(InvalidDigestException.class, () -> Digest.fromRaw(DigestAlgorithm.SHA512, new byte[32]));
    }

    @Test
    void constructorValidatesLikeParse() {
        assertThrows(InvalidDigestException.class, () -> new Digest(DigestAlgorithm.SHA256, SHA256_ABC.toUpperCase()));
        assertThrows(InvalidDigestException.class, () -> new Digest(DigestAlgorithm.SHA256, null));
        assertThrows(InvalidDigestException.class, () -> new Digest(null, SHA256_ABC));
        assertThrows(InvalidDigestException.class, () -> new Digest(DigestAlgorithm.SHA512, SHA256_ABC));
    }

    @Test
    void algorithmsById() {
        assertEquals(DigestAlgorithm.SHA256, DigestAlgorithm.byId("sha256").orElseThrow());
        assertEquals(DigestAlgorithm.SHA512, DigestAlgorithm.byId("sha512").orElseThrow());
        assertTrue(DigestAlgorithm.byId("sha384").isEmpty());
        assertTrue(DigestAlgorithm.byId("SHA256").isEmpty());
        assertEquals(64, DigestAlgorithm.SHA256.hexLength());
        assertEquals(128, DigestAlgorithm.SHA512.hexLength());
    }

    @Test
    void ordersByString() {
        Digest a = Digest.parse("sha256:" + SHA256_ABC);
        Digest e = Digest.parse("sha256:" + SHA256_EMPTY);
        Digest x = Digest.parse("sha512:" + SHA512_EMPTY);
        assertTrue(a.compareTo(e) < 0);
        assertTrue(e.compareTo(x) < 0);
        assertEquals(0, a.compareTo(Digest.parse("sha256:" + SHA256_ABC)));
    }
}
