package dev.berth.notify;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link EventFilter}: actions, media types, repository globs, the manifest-pushed-by-tag preset and
 * the glob-to-regex translation.
 */
class EventFilterTest {
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final String BLOB = "application/octet-stream";
    private static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    private static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    private static Event event(String action, String mediaType, String repository, String tag) {
        Event.Target target = new Event.Target(mediaType, 10L, "sha256:" + "a".repeat(64), 10L, repository, null,
                null, tag, null);
        return new Event("id-1", "2024-01-01T00:00:00Z", action, target, null, null, null);
    }

    private static Event push(String repository) {
        return event(Event.PUSH, OCI_MANIFEST, repository, "v1");
    }

    private static EventFilter repos(String... globs) {
        return new EventFilter(List.of(), List.of(), List.of(globs), null);
    }

    private static boolean globMatches(String glob, String repository) {
        return EventFilter.globToPattern(glob).matcher(repository).matches();
    }

    // ---------------------------------------------------------------- empty filter

    @Test
    void emptyFilterMatchesEverything() {
        EventFilter all = EventFilter.all();
        for (String action : List.of(Event.PUSH, Event.PULL, Event.MOUNT, Event.DELETE)) {
            assertTrue(all.matches(event(action, OCI_MANIFEST, "team/app", "v1")), action);
            assertTrue(all.matches(event(action, BLOB, "a/b/c/d", null)), action);
        }
        // an event without a target at all (e.g. a repository deletion described elsewhere)
        assertTrue(all.matches(new Event("id", "t", Event.DELETE, null, null, null, null)));
        assertTrue(new EventFilter(List.of(), List.of(), List.of(), null).matches(event(Event.PULL, null, null, null)));
    }

    // ---------------------------------------------------------------- actions

    @Test
    void actionsRestrictToTheListedActions() {
        EventFilter pushOnly = new EventFilter(List.of(Event.PUSH), List.of(), List.of(), null);
        assertTrue(pushOnly.matches(event(Event.PUSH, OCI_MANIFEST, "app", "v1")));
        assertFalse(pushOnly.matches(event(Event.PULL, OCI_MANIFEST, "app", "v1")));
        assertFalse(pushOnly.matches(event(Event.DELETE, OCI_MANIFEST, "app", "v1")));
        assertFalse(pushOnly.matches(event(Event.MOUNT, BLOB, "app", null)));

        EventFilter pushOrDelete = new EventFilter(List.of(Event.PUSH, Event.DELETE), List.of(), List.of(), null);
        assertTrue(pushOrDelete.matches(event(Event.PUSH, BLOB, "app", null)));
        assertTrue(pushOrDelete.matches(event(Event.DELETE, BLOB, "app", null)));
        assertFalse(pushOrDelete.matches(event(Event.PULL, BLOB, "app", null)));
        assertFalse(pushOrDelete.matches(event(Event.MOUNT, BLOB, "app", null)));
    }

    // ---------------------------------------------------------------- media types

    @Test
    void mediaTypesRestrictToTheListedTargetTypes() {
        EventFilter manifests = new EventFilter(List.of(), List.of(OCI_MANIFEST, DOCKER_MANIFEST), List.of(), null);
        assertTrue(manifests.matches(event(Event.PUSH, OCI_MANIFEST, "app", "v1")));
        assertTrue(manifests.matches(event(Event.PULL, DOCKER_MANIFEST, "app", null)));
        assertFalse(manifests.matches(event(Event.PUSH, OCI_INDEX, "app", "v1")));
        assertFalse(manifests.matches(event(Event.PUSH, BLOB, "app", null)));
        // no media type, or no target at all, cannot match a media type filter
        assertFalse(manifests.matches(event(Event.DELETE, null, "app", null)));
        assertFalse(manifests.matches(new Event("id", "t", Event.DELETE, null, null, null, null)));
    }

    @Test
    void mediaTypeComparisonIsExact() {
        EventFilter f = new EventFilter(List.of(), List.of(OCI_MANIFEST), List.of(), null);
        assertFalse(f.matches(event(Event.PUSH, OCI_MANIFEST.toUpperCase(), "app", "v1")));
        assertFalse(f.matches(event(Event.PUSH, OCI_MANIFEST + "x", "app", "v1")));
        assertFalse(f.matches(event(Event.PUSH, "application/vnd.oci.image.manifest", "app", "v1")));
    }

    @Test
    void criteriaAreCombinedWithAnd() {
        EventFilter f = new EventFilter(List.of(Event.PUSH), List.of(OCI_MANIFEST), List.of("team/*"), null);
        assertTrue(f.matches(event(Event.PUSH, OCI_MANIFEST, "team/app", "v1")));
        assertFalse(f.matches(event(Event.PULL, OCI_MANIFEST, "team/app", "v1")), "wrong action");
        assertFalse(f.matches(event(Event.PUSH, BLOB, "team/app", null)), "wrong media type");
        assertFalse(f.matches(event(Event.PUSH, OCI_MANIFEST, "other/app", "v1")), "wrong repository");
    }

    // ---------------------------------------------------------------- repository globs

    @Test
    void singleStarStaysWithinOnePathComponent() {
        EventFilter f = repos("team/*");
        assertTrue(f.matches(push("team/app")));
        assertTrue(f.matches(push("team/other-app")));
        assertFalse(f.matches(push("team/a/b")));
        assertFalse(f.matches(push("team")));
        assertFalse(f.matches(push("teams/app")));
        assertFalse(f.matches(push("x/team/app")), "globs are anchored at the start");
    }

    @Test
    void doubleStarCrossesPathComponents() {
        EventFilter f = repos("team/**");
        assertTrue(f.matches(push("team/app")));
        assertTrue(f.matches(push("team/a/b")));
        assertTrue(f.matches(push("team/a/b/c/d")));
        assertFalse(f.matches(push("teamx/app")));
        assertFalse(f.matches(push("other/team/app")));
    }

    @Test
    void questionMarkIsExactlyOneCharacterButNotASlash() {
        EventFilter f = repos("app?");
        assertTrue(f.matches(push("app1")));
        assertTrue(f.matches(push("appx")));
        assertFalse(f.matches(push("app")));
        assertFalse(f.matches(push("app12")));
        assertFalse(f.matches(push("app/")));
    }

    @Test
    void dotsAreLiteral() {
        EventFilter f = repos("my.app");
        assertTrue(f.matches(push("my.app")));
        assertFalse(f.matches(push("myxapp")));
        assertFalse(f.matches(push("my-app")));
        EventFilter g = repos("team/*.svc");
        assertTrue(g.matches(push("team/api.svc")));
        assertFalse(g.matches(push("team/api-svc")));
    }

    @Test
    void anyOfSeveralGlobsMatches() {
        EventFilter f = repos("team/*", "infra/**", "solo");
        assertTrue(f.matches(push("team/app")));
        assertTrue(f.matches(push("infra/a/b")));
        assertTrue(f.matches(push("solo")));
        assertFalse(f.matches(push("solo2")));
        assertFalse(f.matches(push("other/app")));
    }

    @Test
    void repositoryFilterDoesNotMatchEventsWithoutARepository() {
        EventFilter f = repos("**");
        assertFalse(f.matches(event(Event.PUSH, OCI_MANIFEST, null, "v1")));
        assertFalse(f.matches(new Event("id", "t", Event.PUSH, null, null, null, null)));
    }

    // ---------------------------------------------------------------- globToPattern

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
            "team/*,       team/app,        true",
            "team/*,       team/a/b,        false",
            "team/**,      team/a/b,        true",
            "**,           a,               true",
            "**,           a/b/c,           true",
            "*,            app,             true",
            "*,            team/app,        false",
            "team/*-svc,   team/api-svc,    true",
            "team/*-svc,   team/a/b-svc,    false",
            "*/*,          a/b,             true",
            "*/*,          a/b/c,           false",
            "**/app,       x/y/app,         true",
            "**/app,       x/y/app2,        false",
            "a?c,          abc,             true",
            "a?c,          a/c,             false",
            "a??,          abc,             true",
            "a??,          ab,              false",
            "app,          app,             true",
            "app,          myapp,           false",
            "app,          app2,            false",
            "v1.0,         v1.0,            true",
            "v1.0,         v1x0,            false",
    })
    void globToPatternTranslation(String glob, String repository, boolean expected) {
        if (expected) {
            assertTrue(globMatches(glob, repository), glob + " should match " + repository);
        } else {
            assertFalse(globMatches(glob, repository), glob + " should not match " + repository);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a+b", "a(b)", "a[b]", "a{1}", "a|b", "a^b", "a$b", "a\\b", "a\\Eb", "\\Q.x"})
    void regexMetacharactersInAGlobAreLiteral(String glob) {
        Pattern p = EventFilter.globToPattern(glob);
        assertTrue(p.matcher(glob).matches(), glob + " should match itself: " + p);
        assertFalse(p.matcher(glob + "x").matches());
    }

    @Test
    void regexMetacharactersDoNotActAsRegex() {
        assertFalse(globMatches("a+b", "aab"));
        assertFalse(globMatches("a|b", "a"));
        assertFalse(globMatches("a[b]", "ab"));
        assertFalse(globMatches("a.b", "a/b"));
    }

    @Test
    void emptyGlobMatchesOnlyTheEmptyString() {
        assertTrue(globMatches("", ""));
        assertFalse(globMatches("", "a"));
    }

    @Test
    void tripleStarStillCrossesComponents() {
        // "***" is "**" followed by "*": still anything, across components
        assertTrue(globMatches("team/***", "team/a/b"));
        assertTrue(globMatches("team/***", "team/a"));
    }

    // ---------------------------------------------------------------- preset

    @ParameterizedTest
    @ValueSource(strings = {OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST})
    void presetMatchesAPushOfAnyManifestTypeByTag(String mediaType) {
        EventFilter preset = EventFilter.manifestPushedByTag();
        assertTrue(preset.matches(event(Event.PUSH, mediaType, "team/app", "v1")));
        assertFalse(preset.matches(event(Event.PUSH, mediaType, "team/app", null)), "push by digest");
        assertFalse(preset.matches(event(Event.PUSH, mediaType, "team/app", "")), "empty tag");
        assertFalse(preset.matches(event(Event.PULL, mediaType, "team/app", "v1")));
        assertFalse(preset.matches(event(Event.DELETE, mediaType, "team/app", "v1")));
        assertFalse(preset.matches(event(Event.MOUNT, mediaType, "team/app", "v1")));
    }

    @ParameterizedTest
    @ValueSource(strings = {BLOB, OCI_CONFIG, OCI_LAYER, "application/vnd.oci.empty.v1+json"})
    void presetIgnoresNonManifestPushes(String mediaType) {
        assertFalse(EventFilter.manifestPushedByTag().matches(event(Event.PUSH, mediaType, "team/app", "v1")));
    }

    @Test
    void presetIgnoresEventsWithoutMediaTypeOrTarget() {
        EventFilter preset = EventFilter.manifestPushedByTag();
        assertFalse(preset.matches(event(Event.PUSH, null, "team/app", "v1")));
        assertFalse(preset.matches(new Event("id", "t", Event.PUSH, null, null, null, null)));
    }

    @Test
    void presetByNameEqualsTheFactoryAndCombinesWithOtherCriteria() {
        EventFilter byName = new EventFilter(List.of(), List.of(), List.of(), EventFilter.MANIFEST_PUSHED_BY_TAG);
        assertTrue(byName.matches(event(Event.PUSH, DOCKER_MANIFEST, "x", "latest")));
        assertFalse(byName.matches(event(Event.PUSH, DOCKER_MANIFEST, "x", null)));

        EventFilter teamOnly = new EventFilter(List.of(), List.of(), List.of("team/**"),
                EventFilter.MANIFEST_PUSHED_BY_TAG);
        assertTrue(teamOnly.matches(event(Event.PUSH, OCI_INDEX, "team/a/b", "v2")));
        assertFalse(teamOnly.matches(event(Event.PUSH, OCI_INDEX, "other/a", "v2")));

        EventFilter ociOnly = new EventFilter(List.of(), List.of(OCI_MANIFEST), List.of(),
                EventFilter.MANIFEST_PUSHED_BY_TAG);
        assertTrue(ociOnly.matches(event(Event.PUSH, OCI_MANIFEST, "a", "v1")));
        assertFalse(ociOnly.matches(event(Event.PUSH, DOCKER_MANIFEST, "a", "v1")));
    }

    @Test
    void knownPresetsAndActions() {
        assertTrue(EventFilter.PRESETS.contains("manifest-pushed-by-tag"));
        assertTrue(EventFilter.ACTIONS.containsAll(List.of("push", "pull", "mount", "delete")));
        assertFalse(EventFilter.ACTIONS.contains("upload"));
    }
}
