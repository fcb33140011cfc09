package dev.berth.registry.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.manifest.MediaTypes;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AcceptedTypesTest {
    private static final List<String> ALL_MANIFEST_TYPES = List.of(MediaTypes.DOCKER_MANIFEST,
            MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX);

    private static void assertAcceptsAll(AcceptedTypes accepted) {
        for (String type : ALL_MANIFEST_TYPES) {
            assertTrue(accepted.accepts(type), type);
        }
        assertTrue(accepted.accepts("application/vnd.example.whatever"));
    }

    @Test
    void noHeaderAcceptsEverything() {
        assertAcceptsAll(AcceptedTypes.of(List.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"*/*", " */* ", "*/*;q=0.1", "application/*", "text/html, */*"})
    void wildcardAcceptsEverything(String header) {
        assertAcceptsAll(AcceptedTypes.of(List.of(header)));
    }

    @Test
    void wildcardInALaterHeaderAcceptsEverything() {
        assertAcceptsAll(AcceptedTypes.of(List.of(MediaTypes.OCI_MANIFEST, "*/*")));
    }

    @Test
    void singleType() {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(MediaTypes.OCI_MANIFEST));
        assertTrue(accepted.accepts(MediaTypes.OCI_MANIFEST));
        assertFalse(accepted.accepts(MediaTypes.OCI_INDEX));
        assertFalse(accepted.accepts(MediaTypes.DOCKER_MANIFEST));
        assertFalse(accepted.accepts(MediaTypes.DOCKER_MANIFEST_LIST));
    }

    @Test
    void severalHeadersEachWithCommaLists() {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(
                MediaTypes.DOCKER_MANIFEST + ", " + MediaTypes.DOCKER_MANIFEST_LIST,
                MediaTypes.OCI_MANIFEST + ",application/vnd.example.other"));
        assertTrue(accepted.accepts(MediaTypes.DOCKER_MANIFEST));
        assertTrue(accepted.accepts(MediaTypes.DOCKER_MANIFEST_LIST));
        assertTrue(accepted.accepts(MediaTypes.OCI_MANIFEST));
        assertTrue(accepted.accepts("application/vnd.example.other"));
        assertFalse(accepted.accepts(MediaTypes.OCI_INDEX));
    }

    @Test
    void parametersAndCaseAreIgnored() {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(
                MediaTypes.OCI_INDEX + "; charset=utf-8; q=0.9",
                "Application/Vnd.Docker.Distribution.Manifest.V2+JSON;version=2"));
        assertTrue(accepted.accepts(MediaTypes.OCI_INDEX));
        assertTrue(accepted.accepts(MediaTypes.DOCKER_MANIFEST));
        assertFalse(accepted.accepts(MediaTypes.OCI_MANIFEST));
    }

    @ParameterizedTest
    @ValueSource(strings = {"q=0", "q=0.0", "q=0.000", " q=0 "})
    void qZeroExcludesAnEntry(String q) {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(
                MediaTypes.OCI_MANIFEST + ", " + MediaTypes.OCI_INDEX + ";" + q));
        assertTrue(accepted.accepts(MediaTypes.OCI_MANIFEST));
        assertFalse(accepted.accepts(MediaTypes.OCI_INDEX));
    }

    @ParameterizedTest
    @ValueSource(strings = {"q=0.5", "q=0.001", "q=1", "q=1.0"})
    void nonZeroQualityKeepsAnEntry(String q) {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(
                MediaTypes.OCI_MANIFEST + ", " + MediaTypes.OCI_INDEX + ";" + q));
        assertTrue(accepted.accepts(MediaTypes.OCI_MANIFEST));
        assertTrue(accepted.accepts(MediaTypes.OCI_INDEX));
        assertFalse(accepted.accepts(MediaTypes.DOCKER_MANIFEST));
    }

    @Test
    void entryExcludedWithQZeroStaysExcludedWhenItIsTheOnlyOne() {
        // the client said it does not want an index; that must not turn into "anything goes"
        AcceptedTypes accepted = AcceptedTypes.of(List.of(MediaTypes.OCI_INDEX + ";q=0"));
        assertFalse(accepted.accepts(MediaTypes.OCI_INDEX));
    }

    @Test
    void emptyEntriesAreSkipped() {
        AcceptedTypes accepted = AcceptedTypes.of(List.of(MediaTypes.OCI_MANIFEST + ", ,", ""));
        assertTrue(accepted.accepts(MediaTypes.OCI_MANIFEST));
        assertFalse(accepted.accepts(MediaTypes.OCI_INDEX));
    }

    @Test
    void emptyHeaderAcceptsEverything() {
        // an Accept header without any media range is treated like no header
        assertAcceptsAll(AcceptedTypes.of(List.of("")));
    }
}
