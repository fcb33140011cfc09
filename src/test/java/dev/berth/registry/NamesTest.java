package dev.berth.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
    private static final String SHA256 = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @ParameterizedTest
    @ValueSource(strings = {
            "a",
            "0",
            "busybox",
            "library/busybox",
            "a.b_c__d---e/f0",
            "a-b",
            "a--b",
            "a.b",
            "a_b",
            "a__b",
            "a/b/c/d/e",
            "gcr.io/distroless/static",
            "x9/z9",
    })
    void acceptsRepositoryNames(String name) {
        assertTrue(RepositoryName.isValid(name));
        assertEquals(name, RepositoryName.of(name).value());
        assertEquals(name, RepositoryName.of(name).toString());
    }

    @Test
    void accepts255CharacterName() {
        String name = "a".repeat(255);
        assertTrue(RepositoryName.isValid(name));
        assertEquals(name, RepositoryName.of(name).value());

        String withComponents = ("abcdefghi/".repeat(26)).substring(0, 254) + "z";
        assertEquals(255, withComponents.length());
        assertEquals(withComponents, RepositoryName.of(withComponents).value());
    }

    @Test
    void rejects256CharacterName() {
        String name = "a".repeat(256);
        assertFalse(RepositoryName.isValid(name));
        assertThrows(InvalidNameException.class, () -> RepositoryName.of(name));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {
            "A",
            "Library/busybox",
            "library/BusyBox",
            "/a",
            "a/",
            "/",
            "a//b",
            "a/../b",
            "..",
            ".",
            "a/.",
            "a/./b",
            "../a",
            "_x",
            "a/_layers",
            "a/_manifests",
            "_uploads",
            "a_",
            "a-",
            "a.",
            ".a",
            "-a",
            "a..b",
            "a___b",
            "a._b",
            "a-.b",
            "a b",
            " a",
            "a ",
            "a\tb",
            "a%2Fb",
            "a%2fb",
            "a\\b",
            "a:b",
            "a@b",
            "a+b",
            "é",
            "a\nb",
    })
    void rejectsRepositoryNames(String name) {
        assertFalse(RepositoryName.isValid(name));
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> RepositoryName.of(name));
        assertTrue(e.getMessage().startsWith("invalid repository name"), e.getMessage());
    }

    @Test
    void repositoryNamesCompareByValue() {
        assertEquals(RepositoryName.of("a/b"), new RepositoryName("a/b"));
        assertTrue(RepositoryName.of("a").compareTo(RepositoryName.of("b")) < 0);
        assertEquals(0, RepositoryName.of("a").compareTo(RepositoryName.of("a")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"latest", "v1.2.3", "_x", "X", "9", "1.0-rc_1", "a..b", "a--", "UPPER_lower.9-"})
    void acceptsTags(String tag) {
        assertTrue(Tag.isValid(tag));
        assertEquals(tag, Tag.of(tag).value());
        assertEquals(tag, Tag.of(tag).toString());
    }

    @Test
    void tagLengthLimitIs128() {
        String max = "t".repeat(128);
        assertTrue(Tag.isValid(max));
        assertEquals(max, Tag.of(max).value());

        String tooLong = "t".repeat(129);
        assertFalse(Tag.isValid(tooLong));
        assertThrows(InvalidNameException.class, () -> Tag.of(tooLong));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {".x", "-x", ".", "-", "a b", " a", "a ", "a/b", "a:b", "a@b", "a+b", "a%2Fb", "é", "a\n"})
    void rejectsTags(String tag) {
        assertFalse(Tag.isValid(tag));
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> Tag.of(tag));
        assertTrue(e.getMessage().startsWith("invalid tag"), e.getMessage());
    }

    @Test
    void referenceParsesTag() {
        Reference ref = Reference.parse("v1.0");
        Reference.ByTag byTag = assertInstanceOf(Reference.ByTag.class, ref);
        assertEquals(Tag.of("v1.0"), byTag.tag());
        assertEquals("v1.0", ref.toString());
    }

    @Test
    void referenceParsesDigest() {
        Reference ref = Reference.parse(SHA256);
        Reference.ByDigest byDigest = assertInstanceOf(Reference.ByDigest.class, ref);
        assertEquals(Digest.parse(SHA256), byDigest.digest());
        assertEquals(SHA256, ref.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:bad", "sha384:abc", "latest:1", ":", "sha256:" + "A"})
    void referenceWithColonMustBeAValidDigest(String text) {
        assertThrows(InvalidDigestException.class, () -> Reference.parse(text));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"bad tag", ".hidden", "-x", "a/b"})
    void referenceWithoutColonMustBeAValidTag(String text) {
        assertThrows(InvalidNameException.class, () -> Reference.parse(text));
    }
}
