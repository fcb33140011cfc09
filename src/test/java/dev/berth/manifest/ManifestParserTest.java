package dev.berth.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.digest.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestParserTest {
    private static final String D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private static final String D2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    private static final String D3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    private static final String EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    private static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    private static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    private static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    private static final String DOCKER_MANIFEST_JSON = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
              "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": "%s"},
              "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2479, "digest": "%s"},
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 0, "digest": "%s"}
              ]
            }
            """.formatted(D1, D2, D3);

    private static final String OCI_MANIFEST_NO_TYPE = """
            {
              "schemaVersion": 2,
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 10, "digest": "%s"},
              "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 20, "digest": "%s"}],
              "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
            }
            """.formatted(D1, D2);

    private static final String OCI_INDEX_NO_TYPE = """
            {
              "schemaVersion": 2,
              "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 500, "digest": "%s",
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 501, "digest": "%s",
                 "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
                 "annotations": {"k": "v"}}
              ]
            }
            """.formatted(D1, D2);

    private static Manifest parse(String json, String contentType) throws ManifestInvalidException {
        return ManifestParser.parse(json.getBytes(StandardCharsets.UTF_8), contentType);
    }

    private static ManifestInvalidException invalid(String json, String contentType) {
        return assertThrows(ManifestInvalidException.class, () -> parse(json, contentType));
    }

    /** A minimal valid OCI manifest with {@code config} and {@code layers} given as raw JSON. */
    private static String ociManifest(String config, String layers) {
        return """
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "config": %s, "layers": %s}
                """.formatted(config, layers);
    }

    private static String configDescriptor() {
        return "{\"mediaType\": \"" + OCI_CONFIG + "\", \"size\": 10, \"digest\": \"" + D1 + "\"}";
    }

    private static String layersWith(String descriptor) {
        return "[" + descriptor + "]";
    }

    // ---- valid manifests

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {
            MediaTypes.DOCKER_MANIFEST,
            "application/json",
            MediaTypes.DOCKER_MANIFEST + "; charset=utf-8",
            "Application/Vnd.Docker.Distribution.Manifest.V2+JSON",
    })
    void dockerSchema2Manifest(String contentType) throws Exception {
        Manifest m = parse(DOCKER_MANIFEST_JSON, contentType);
        assertEquals(MediaTypes.DOCKER_MANIFEST, m.mediaType());
        assertFalse(m.isIndex());
        assertEquals(new Descriptor(DOCKER_CONFIG, Digest.parse(D1), 1469, null, Map.of(), List.of(), null),
                m.config());
        assertEquals(2, m.layers().size());
        assertEquals(DOCKER_LAYER, m.layers().get(0).mediaType());
        assertEquals(Digest.parse(D2), m.layers().get(0).digest());
        assertEquals(2479, m.layers().get(0).size());
        assertEquals(Digest.parse(D3), m.layers().get(1).digest());
        assertEquals(0, m.layers().get(1).size());
        assertTrue(m.layers().get(0).isDistributable());
        assertTrue(m.manifests().isEmpty());
        assertNull(m.subject());
        assertNull(m.artifactType());
        assertEquals(Map.of(), m.annotations());
        assertEquals(DOCKER_CONFIG, m.effectiveArtifactType());
    }

    @Test
    void dockerManifestList() throws Exception {
        String json = """
                {
                  "schemaVersion": 2,
                  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                  "manifests": [
                    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 7143, "digest": "%s",
                     "platform": {"architecture": "ppc64le", "os": "linux"}},
                    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 7682, "digest": "%s",
                     "platform": {"architecture": "amd64", "os": "linux", "features": ["sse4"]}}
                  ]
                }
                """.formatted(D1, D2);
        Manifest m = parse(json, MediaTypes.DOCKER_MANIFEST_LIST);
        assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, m.mediaType());
        assertTrue(m.isIndex());
        assertNull(m.config());
        assertTrue(m.layers().isEmpty());
        assertEquals(2, m.manifests().size());
        assertEquals(new Platform("linux", "ppc64le", null), m.manifests().get(0).platform());
        assertEquals(new Platform("linux", "amd64", null), m.manifests().get(1).platform());
        assertEquals(Digest.parse(D2), m.manifests().get(1).digest());
        assertEquals(7682, m.manifests().get(1).size());
        assertNull(m.effectiveArtifactType());
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"application/json", "application/octet-stream", MediaTypes.OCI_MANIFEST})
    void ociManifestWithMediaTypeField(String contentType) throws Exception {
        Manifest m = parse(ociManifest(configDescriptor(), layersWith(
                "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 20, \"digest\": \"" + D2 + "\"}")), contentType);
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        assertEquals(OCI_CONFIG, m.config().mediaType());
        assertEquals(1, m.layers().size());
        assertEquals(OCI_CONFIG, m.effectiveArtifactType());
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"application/json", "application/octet-stream", "  "})
    void ociManifestWithoutMediaTypeIsInferred(String contentType) throws Exception {
        Manifest m = parse(OCI_MANIFEST_NO_TYPE, contentType);
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        assertFalse(m.isIndex());
        assertEquals(Digest.parse(D1), m.config().digest());
        assertEquals(Digest.parse(D2), m.layers().get(0).digest());
        assertEquals(Map.of("org.opencontainers.image.created", "2024-01-01T00:00:00Z"), m.annotations());
    }

    @Test
    void ociManifestWithoutMediaTypeTakesContentType() throws Exception {
        Manifest m = parse(OCI_MANIFEST_NO_TYPE, MediaTypes.OCI_MANIFEST + ";charset=utf-8");
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
    }

    @Test
    void structureMustFitTheContentType() {
        // the header says index, but the document is an image manifest
        invalid(OCI_MANIFEST_NO_TYPE, MediaTypes.OCI_INDEX);
        // and the other way round
        invalid(OCI_INDEX_NO_TYPE, MediaTypes.OCI_MANIFEST);
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"application/json", MediaTypes.OCI_INDEX})
    void ociIndexWithoutMediaType(String contentType) throws Exception {
        Manifest m = parse(OCI_INDEX_NO_TYPE, contentType);
        assertEquals(MediaTypes.OCI_INDEX, m.mediaType());
        assertTrue(m.isIndex());
        assertNull(m.config());
        assertTrue(m.layers().isEmpty());
        assertEquals(2, m.manifests().size());
        Descriptor first = m.manifests().get(0);
        assertEquals(MediaTypes.OCI_MANIFEST, first.mediaType());
        assertEquals(Digest.parse(D1), first.digest());
        assertEquals(500, first.size());
        assertEquals(new Platform("linux", "amd64", null), first.platform());
        Descriptor second = m.manifests().get(1);
        assertEquals(new Platform("linux", "arm", "v7"), second.platform());
        assertEquals(Map.of("k", "v"), second.annotations());
        assertNull(m.effectiveArtifactType());
    }

    @Test
    void ociIndexWithMediaTypeFieldAndArtifactType() throws Exception {
        String json = """
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "artifactType": "application/vnd.example.bundle",
                 "manifests": [], "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "size": 7, "digest": "%s"}}
                """.formatted(D3);
        Manifest m = parse(json, null);
        assertTrue(m.isIndex());
        assertTrue(m.manifests().isEmpty());
        assertEquals("application/vnd.example.bundle", m.effectiveArtifactType());
        assertEquals(Digest.parse(D3), m.subject().digest());
    }

    @Test
    void ociArtifactWithEmptyConfigAndSubject() throws Exception {
        String json = """
                {
                  "schemaVersion": 2,
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "artifactType": "application/vnd.example.sbom.v1",
                  "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "%s", "size": 2,
                             "data": "e30="},
                  "layers": [{"mediaType": "application/spdx+json", "digest": "%s", "size": 1234,
                              "annotations": {"org.opencontainers.image.title": "sbom.spdx.json"}}],
                  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "%s", "size": 7682},
                  "annotations": {"org.opencontainers.image.created": "2024-05-01T00:00:00Z"}
                }
                """.formatted(EMPTY_DIGEST, D2, D3);
        Manifest m = parse(json, MediaTypes.OCI_MANIFEST);
        assertEquals("application/vnd.example.sbom.v1", m.artifactType());
        assertEquals("application/vnd.example.sbom.v1", m.effectiveArtifactType());
        assertEquals(new Descriptor(MediaTypes.OCI_EMPTY, Digest.parse(EMPTY_DIGEST), 2, null, Map.of(), List.of(),
                null), m.config());
        assertEquals(new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse(D3), 7682, null, Map.of(), List.of(),
                null), m.subject());
        assertEquals(Map.of("org.opencontainers.image.title", "sbom.spdx.json"), m.layers().get(0).annotations());
        assertEquals(Map.of("org.opencontainers.image.created", "2024-05-01T00:00:00Z"), m.annotations());
    }

    @Test
    void effectiveArtifactTypeFallsBackToConfigMediaType() throws Exception {
        String json = ociManifest("{\"mediaType\": \"application/vnd.example.config.v1+json\", \"size\": 2, "
                + "\"digest\": \"" + EMPTY_DIGEST + "\"}", "[]");
        Manifest m = parse(json, null);
        assertNull(m.artifactType());
        assertEquals("application/vnd.example.config.v1+json", m.effectiveArtifactType());
    }

    @Test
    void descriptorArtifactTypeAndSha512Digest() throws Exception {
        String sha512 = "sha512:" + "ab".repeat(64);
        String json = """
                {"schemaVersion": 2, "manifests": [
                  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 3, "digest": "%s",
                   "artifactType": "application/vnd.example.sig"}]}
                """.formatted(sha512);
        Descriptor d = parse(json, null).manifests().get(0);
        assertEquals(Digest.parse(sha512), d.digest());
        assertEquals("application/vnd.example.sig", d.artifactType());
        assertNull(d.platform());
    }

    @Test
    void foreignAndNonDistributableLayers() throws Exception {
        String json = """
                {
                  "schemaVersion": 2,
                  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 10, "digest": "%1$s"},
                  "layers": [
                    {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 100,
                     "digest": "%2$s", "urls": ["https://example.com/layer.tar.gz"]},
                    {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 100,
                     "digest": "%2$s"},
                    {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "size": 100,
                     "digest": "%2$s"},
                    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 100,
                     "digest": "%3$s", "urls": ["https://example.com/a", "https://example.com/b"]},
                    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 100,
                     "digest": "%3$s", "urls": []}
                  ]
                }
                """.formatted(D1, D2, D3);
        List<Descriptor> layers = parse(json, null).layers();
        assertEquals(List.of("https://example.com/layer.tar.gz"), layers.get(0).urls());
        assertFalse(layers.get(0).isDistributable());
        assertFalse(layers.get(1).isDistributable(), "foreign media type without urls");
        assertFalse(layers.get(2).isDistributable(), "OCI non-distributable media type");
        assertEquals(List.of("https://example.com/a", "https://example.com/b"), layers.get(3).urls());
        assertFalse(layers.get(3).isDistributable(), "ordinary media type with urls");
        assertTrue(layers.get(4).urls().isEmpty());
        assertTrue(layers.get(4).isDistributable());
    }

    @Test
    void parsedCollectionsAreImmutable() throws Exception {
        Manifest m = parse(DOCKER_MANIFEST_JSON, null);
        assertThrows(UnsupportedOperationException.class, () -> m.layers().clear());
        Manifest oci = parse(OCI_MANIFEST_NO_TYPE, null);
        assertThrows(UnsupportedOperationException.class, () -> oci.annotations().put("x", "y"));
    }

    // ---- invalid manifests

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not json", "{", "{\"schemaVersion\": 2,}", "{'schemaVersion': 2}",
            "[]", "[{\"schemaVersion\": 2}]", "null", "2", "\"manifest\"", "true"})
    void rejectsDocumentsThatAreNotJsonObjects(String text) {
        invalid(text, null);
        invalid(text, MediaTypes.OCI_MANIFEST);
    }

    @Test
    void rejectsBinaryGarbage() {
        byte[] bytes = {(byte) 0xff, (byte) 0xfe, 0, 1, 2};
        assertThrows(ManifestInvalidException.class, () -> ManifestParser.parse(bytes, null));
    }

    @Test
    void rejectsTrailingDataAfterTheObject() {
        // "{...} {...}" is not one JSON document; the stored bytes would not be valid JSON for clients
        invalid(OCI_MANIFEST_NO_TYPE + " {\"schemaVersion\": 2}", null);
        invalid(OCI_MANIFEST_NO_TYPE + " garbage", null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "3", "0", "-2", "\"2\"", "2.0", "2.5", "null", "true", "[2]", "{}",
            "4294967298", "18446744073709551618"})
    void rejectsSchemaVersionOtherThanTwo(String schemaVersion) {
        String json = OCI_MANIFEST_NO_TYPE.replace("\"schemaVersion\": 2", "\"schemaVersion\": " + schemaVersion);
        ManifestInvalidException e = invalid(json, null);
        assertTrue(e.getMessage().contains("schemaVersion"), e.getMessage());
    }

    @Test
    void rejectsMissingSchemaVersion() {
        String json = OCI_MANIFEST_NO_TYPE.replace("\"schemaVersion\": 2,", "");
        invalid(json, null);
    }

    @Test
    void rejectsMediaTypeFieldContradictingContentType() {
        ManifestInvalidException e = invalid(ociManifest(configDescriptor(), "[]"), MediaTypes.OCI_INDEX);
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        invalid(ociManifest(configDescriptor(), "[]"), MediaTypes.DOCKER_MANIFEST);
        invalid(DOCKER_MANIFEST_JSON, MediaTypes.OCI_MANIFEST);
        invalid(DOCKER_MANIFEST_JSON, "text/plain");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.distribution.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "application/vnd.OCI.image.manifest.v1+json",
            "application/json",
            "",
    })
    void rejectsUnknownMediaTypeField(String mediaType) {
        String json = OCI_MANIFEST_NO_TYPE.replace("\"schemaVersion\": 2,",
                "\"schemaVersion\": 2, \"mediaType\": \"" + mediaType + "\",");
        invalid(json, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.distribution.manifest.v1+prettyjws"})
    void rejectsUnknownContentTypeWithoutMediaTypeField(String contentType) {
        ManifestInvalidException e = invalid(OCI_MANIFEST_NO_TYPE, contentType);
        assertTrue(e.getMessage().contains("unsupported"), e.getMessage());
    }

    @Test
    void rejectsDockerTypesWithoutMediaTypeField() {
        String manifest = DOCKER_MANIFEST_JSON.replace(
                "\"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",", "");
        ManifestInvalidException e = invalid(manifest, MediaTypes.DOCKER_MANIFEST);
        assertTrue(e.getMessage().contains("mediaType field is required"), e.getMessage());
        invalid(OCI_INDEX_NO_TYPE, MediaTypes.DOCKER_MANIFEST_LIST);
    }

    @Test
    void rejectsNonStringMediaTypeField() {
        invalid(OCI_MANIFEST_NO_TYPE.replace("\"schemaVersion\": 2,", "\"schemaVersion\": 2, \"mediaType\": 1,"),
                null);
    }

    @Test
    void rejectsMissingConfig() {
        ManifestInvalidException e = invalid(
                "{\"schemaVersion\": 2, \"mediaType\": \"" + MediaTypes.OCI_MANIFEST + "\", \"layers\": []}", null);
        assertTrue(e.getMessage().contains("config"), e.getMessage());
        String docker = DOCKER_MANIFEST_JSON.replaceFirst("\"config\": \\{[^}]*},", "");
        invalid(docker, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "\"sha256:x\"", "[]", "1", "true"})
    void rejectsConfigThatIsNotAnObject(String config) {
        ManifestInvalidException e = invalid(ociManifest(config, "[]"), null);
        assertTrue(e.getMessage().contains("config"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // no digest
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": null}",
            // bad digests
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"sha256:bad\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"md5:900150983cd24fb0d6963f7d28e17f72\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, "
                    + "\"digest\": \"SHA256:1111111111111111111111111111111111111111111111111111111111111111\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": 12}",
            // sizes
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": -1, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": \"20\", \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 2.5, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": null, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 99999999999999999999, \"digest\": \"" + D2 + "\"}",
            // media type
            "{\"size\": 1, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \"\", \"size\": 1, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": \" \", \"size\": 1, \"digest\": \"" + D2 + "\"}",
            "{\"mediaType\": 5, \"size\": 1, \"digest\": \"" + D2 + "\"}",
            // other fields of the wrong shape
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"urls\": \"https://x\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"urls\": [1]}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"artifactType\": 1}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"platform\": \"linux\"}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"annotations\": []}",
            "{\"mediaType\": \"" + OCI_LAYER + "\", \"size\": 1, \"digest\": \"" + D2 + "\", \"annotations\": {\"a\": 1}}",
            // not an object at all
            "\"" + D2 + "\"",
            "null",
    })
    void rejectsBadLayerDescriptors(String descriptor) {
        ManifestInvalidException e = invalid(ociManifest(configDescriptor(), layersWith(descriptor)), null);
        assertTrue(e.getMessage().contains("layers[0]"), e.getMessage());
    }

    @Test
    void rejectsBadConfigDescriptor() {
        invalid(ociManifest("{\"mediaType\": \"" + OCI_CONFIG + "\", \"size\": 1}", "[]"), null);
        invalid(ociManifest("{\"mediaType\": \"" + OCI_CONFIG + "\", \"size\": -5, \"digest\": \"" + D1 + "\"}",
                "[]"), null);
        invalid(ociManifest("{\"mediaType\": \"" + OCI_CONFIG + "\", \"size\": \"5\", \"digest\": \"" + D1 + "\"}",
                "[]"), null);
    }

    @Test
    void rejectsBadIndexEntryAndSubject() {
        invalid(OCI_INDEX_NO_TYPE.replace("\"size\": 500", "\"size\": -500"), null);
        invalid(OCI_INDEX_NO_TYPE.replace("\"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}",
                "\"platform\": [\"linux\"]"), null);
        invalid(OCI_INDEX_NO_TYPE.replace("\"os\": \"linux\"", "\"os\": 1"), null);
        invalid(ociManifest(configDescriptor(), "[]").replace("\"layers\"", "\"subject\": \"" + D1 + "\", \"layers\""),
                null);
        invalid(ociManifest(configDescriptor(), "[]").replace("\"layers\"",
                "\"subject\": {\"mediaType\": \"" + MediaTypes.OCI_MANIFEST + "\", \"size\": 1}, \"layers\""), null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "\"layer\"", "1", "true"})
    void rejectsLayersThatAreNotAnArray(String layers) {
        ManifestInvalidException e = invalid(ociManifest(configDescriptor(), layers), null);
        assertTrue(e.getMessage().contains("layers"), e.getMessage());
    }

    @Test
    void dockerManifestRequiresLayers() {
        String json = """
                {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "%s"}}
                """.formatted(D1);
        invalid(json, null);
    }

    @Test
    void indexRequiresManifests() {
        invalid("{\"schemaVersion\": 2, \"mediaType\": \"" + MediaTypes.OCI_INDEX + "\"}", null);
        invalid("{\"schemaVersion\": 2, \"mediaType\": \"" + MediaTypes.OCI_INDEX + "\", \"manifests\": {}}", null);
    }

    @Test
    void rejectsIndexWithLayersOrConfig() {
        invalid(OCI_INDEX_NO_TYPE.replace("\"manifests\"", "\"layers\": [], \"manifests\""), null);
        invalid(OCI_INDEX_NO_TYPE.replace("\"manifests\"", "\"config\": " + configDescriptor() + ", \"manifests\""),
                null);
        String dockerList = "{\"schemaVersion\": 2, \"mediaType\": \"" + MediaTypes.DOCKER_MANIFEST_LIST + "\", "
                + "\"manifests\": [], \"layers\": []}";
        invalid(dockerList, null);
    }

    @Test
    void rejectsManifestWithManifests() {
        ManifestInvalidException e = invalid(
                ociManifest(configDescriptor(), "[]").replace("\"layers\"", "\"manifests\": [], \"layers\""), null);
        assertTrue(e.getMessage().contains("manifests"), e.getMessage());
        invalid(DOCKER_MANIFEST_JSON.replace("\"layers\"", "\"manifests\": [], \"layers\""), MediaTypes.DOCKER_MANIFEST);
    }

    @Test
    void rejectsDuplicateKeys() {
        ManifestInvalidException e = invalid(OCI_MANIFEST_NO_TYPE.replace("\"schemaVersion\": 2,",
                "\"schemaVersion\": 2, \"schemaVersion\": 2,"), null);
        assertTrue(e.getMessage().contains("Duplicate"), e.getMessage());
        // a second config that would otherwise silently win
        invalid(ociManifest(configDescriptor(), "[]").replace("\"layers\"",
                "\"config\": " + configDescriptor() + ", \"layers\""), null);
        // inside a descriptor
        invalid(ociManifest("{\"mediaType\": \"" + OCI_CONFIG + "\", \"size\": 10, \"digest\": \"" + D1
                + "\", \"digest\": \"" + D2 + "\"}", "[]"), null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\": 1}", "{\"a\": true}", "{\"a\": null}", "{\"a\": {\"b\": \"c\"}}",
            "{\"a\": [\"b\"]}", "[\"a\"]", "\"a=b\""})
    void rejectsAnnotationsThatAreNotStringMaps(String annotations) {
        String json = ociManifest(configDescriptor(), "[]").replace("\"layers\"",
                "\"annotations\": " + annotations + ", \"layers\"");
        ManifestInvalidException e = invalid(json, null);
        assertTrue(e.getMessage().contains("annotations"), e.getMessage());
    }

    @Test
    void rejectsNonStringArtifactType() {
        invalid(ociManifest(configDescriptor(), "[]").replace("\"layers\"", "\"artifactType\": 1, \"layers\""),
                null);
    }
}
