package dev.berth.deploy.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.deploy.model.AutoDeploy;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which pushes deploy, per policy. */
class TriggerPolicyTest {
    private static final String D1 = "sha256:" + "1".repeat(64);
    private static final String D2 = "sha256:" + "2".repeat(64);
    private static final String D9 = "sha256:" + "9".repeat(64);
    private static final String REPO = "team/web";

    private static AutoDeploy digest(String tag) {
        return new AutoDeploy("web", REPO, "digest", tag, null, null, null, 0);
    }

    private static AutoDeploy semver(String range, boolean pre) {
        return new AutoDeploy("web", REPO, "semver", null, range, null, pre, 0);
    }

    private static AutoDeploy glob(String pattern) {
        return new AutoDeploy("web", REPO, "glob", null, null, pattern, null, 0);
    }

    private static AutoDeploy regexp(String pattern) {
        return new AutoDeploy("web", REPO, "regexp", null, null, pattern, null, 0);
    }

    static Stream<Arguments> cases() {
        String running = "berth:5000/team/web:1.2.0@" + D1;
        return Stream.of(
                // digest: the followed tag moved
                Arguments.of(digest("stable"), "berth:5000/team/web:stable@" + D1, "stable", D2,
                        "berth:5000/team/web:stable@" + D2),
                Arguments.of(digest("stable"), "berth:5000/team/web:stable@" + D1, "stable", D1, null),
                Arguments.of(digest("stable"), "berth:5000/team/web:stable@" + D1, "latest", D2, null),
                Arguments.of(digest("stable"), "team/web:stable", "stable", D2, "team/web:stable@" + D2),
                // semver: in range, upgrades only, prereleases when asked
                Arguments.of(semver("^1.0.0", false), running, "1.3.0", D2, "berth:5000/team/web:1.3.0@" + D2),
                Arguments.of(semver("^1.0.0", false), running, "v1.10.1", D2, "berth:5000/team/web:v1.10.1@" + D2),
                Arguments.of(semver("^1.0.0", false), running, "1.1.9", D2, null),
                Arguments.of(semver("^1.0.0", false), running, "1.2.0", D2, null),
                Arguments.of(semver("^1.0.0", false), running, "2.0.0", D2, null),
                Arguments.of(semver("^1.0.0", false), running, "1.4.0-rc.1", D2, null),
                Arguments.of(semver("^1.0.0", true), running, "1.4.0-rc.1", D2, "berth:5000/team/web:1.4.0-rc.1@" + D2),
                Arguments.of(semver(">=1.0.0 <3.0.0", false), running, "2.5.0", D2, "berth:5000/team/web:2.5.0@" + D2),
                Arguments.of(semver("~1.2", false), running, "1.2.7", D2, "berth:5000/team/web:1.2.7@" + D2),
                Arguments.of(semver("~1.2", false), running, "1.3.0", D2, null),
                Arguments.of(semver("^1.0.0", false), running, "latest", D2, null),
                Arguments.of(semver("^1.0.0", false), "team/web:latest", "1.0.0", D2, "team/web:1.0.0@" + D2),
                // glob and regexp: the whole tag
                Arguments.of(glob("main-*"), running, "main-4f2a", D2, "berth:5000/team/web:main-4f2a@" + D2),
                Arguments.of(glob("main-*"), running, "feature-main-1", D2, null),
                Arguments.of(regexp("release-[0-9]+"), running, "release-42", D2, "berth:5000/team/web:release-42@" + D2),
                Arguments.of(regexp("release-[0-9]+"), running, "release-42a", D2, null),
                // never a rolled-back digest, never another repository
                Arguments.of(glob("*"), running, "anything", D9, null),
                Arguments.of(new AutoDeploy("web", "team/other", "glob", null, null, "*", null, 0), running, "x", D2, null));
    }

    @ParameterizedTest(name = "{0} running {1}, push {2}@{3}")
    @MethodSource("cases")
    void decides(AutoDeploy auto, String running, String tag, String digest, String expected) {
        // A hook that did not name its registry: any registry's image matches.
        assertEquals(expected, TriggerPolicy.decide(auto, running, new Push(null, REPO, tag, digest, null), List.of(D9),
                r -> false));
    }

    @org.junit.jupiter.api.Test
    void pushesConcernImagesOfTheRegistryTheyWentTo() {
        AutoDeploy auto = glob("*");
        String ours = "berth:5000/team/web:1@" + D1;
        String theirs = "ghcr.io/team/web:1@" + D1;
        String hub = "team/web:1@" + D1;
        java.util.function.Predicate<String> berth = "berth:5000"::equals;
        assertEquals("berth:5000/team/web:2@" + D2, TriggerPolicy.decide(auto, ours, Push.local(REPO, "2", D2), List.of(), berth));
        assertEquals(null, TriggerPolicy.decide(auto, theirs, Push.local(REPO, "2", D2), List.of(), berth));
        assertEquals(null, TriggerPolicy.decide(auto, hub, Push.local(REPO, "2", D2), List.of(), berth));
        assertEquals("ghcr.io/team/web:2@" + D2, TriggerPolicy.decide(auto, theirs, new Push("ghcr.io", REPO, "2", D2, null),
                List.of(), berth));
        assertEquals(null, TriggerPolicy.decide(auto, ours, new Push("ghcr.io", REPO, "2", D2, null), List.of(), berth));
    }
}
