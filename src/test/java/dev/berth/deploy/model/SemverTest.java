package dev.berth.deploy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Versions in tags and npm-style ranges. */
class SemverTest {
    @Test
    void precedenceFollowsTheSpec() {
        List<String> ordered = List.of("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0");
        List<Semver> parsed = new ArrayList<>(ordered.stream().map(Semver::parseTag).toList());
        Collections.shuffle(parsed, new java.util.Random(3));
        Collections.sort(parsed);
        assertEquals(ordered, parsed.stream().map(Semver::toString).toList());
        assertEquals(0, Semver.parseTag("v1.2.3+build.7").compareTo(Semver.parseTag("1.2.3")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"latest", "1.2", "1", "01.2.3", "1.2.3.4", "v", "1.2.x", "main-1.2.3"})
    void tagsThatAreNotFullVersions(String tag) {
        assertNull(Semver.parseTag(tag));
    }

    @ParameterizedTest(name = "{0} ∋ {1}: {2}")
    @CsvSource({
            "^1.2.3, 1.2.3, true", "^1.2.3, 1.9.0, true", "^1.2.3, 2.0.0, false", "^1.2.3, 1.2.2, false",
            "^0.2.3, 0.2.9, true", "^0.2.3, 0.3.0, false", "^0.0.3, 0.0.4, false", "^1, 1.99.0, true",
            "~1.2.3, 1.2.9, true", "~1.2.3, 1.3.0, false", "~1, 1.9.9, true", "~1, 2.0.0, false",
            "1.x, 1.4.4, true", "1.x, 2.0.0, false", "*, 7.0.0, true", "1.2, 1.2.5, true", "1.2, 1.3.0, false",
            ">=1.0.0 <2.0.0, 1.5.0, true", ">=1.0.0 <2.0.0, 2.0.0, false", "> 1.2.3, 1.2.4, true", "> 1.2.3, 1.2.3, false",
            ">1.2, 1.2.9, false", ">1.2, 1.3.0, true", "<=1.2, 1.2.9, true", "<=1.2, 1.3.0, false",
            "1.0.0 - 1.4, 1.4.7, true", "1.0.0 - 1.4, 1.5.0, false", "=1.2.3, 1.2.3, true", "=1.2.3, 1.2.4, false",
            "^1.0.0 || ^3.0.0, 3.1.0, true", "^1.0.0 || ^3.0.0, 2.1.0, false"})
    void rangesMatchReleases(String range, String version, boolean matches) {
        assertEquals(matches, SemverRange.parse(range).matches(Semver.parseTag(version), false));
    }

    @Test
    void prereleasesMatchOnlyWhenAskedFor() {
        SemverRange r = SemverRange.parse("^1.0.0");
        Semver rc = Semver.parseTag("1.5.0-rc.1");
        assertEquals(false, r.matches(rc, false));
        assertTrue(r.matches(rc, true));
        assertEquals(false, r.matches(Semver.parseTag("2.0.0-rc.1"), true), "still within the range");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "^1.2.3.4", ">=01.0", "1.0 ||", "^1.x-rc.1"})
    void badRangesAreRefused(String range) {
        assertThrows(IllegalArgumentException.class, () -> SemverRange.parse(range));
    }
}
