package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.config.BerthConfig.CacheConfig;
import dev.berth.config.BerthConfig.FilesystemConfig;
import dev.berth.config.BerthConfig.HttpConfig;
import dev.berth.config.BerthConfig.LogConfig;
import dev.berth.config.BerthConfig.RegistryConfig;
import dev.berth.config.BerthConfig.StorageConfig;
import dev.berth.config.BerthConfig.UploadsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
    private final ConfigLoader loader = new ConfigLoader();

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private BerthConfig loadYaml(String yaml) throws IOException {
        return loader.load(write(yaml), true, Map.of(), Map.of());
    }

    private ConfigException yamlError(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThrows(ConfigException.class, () -> loader.load(file, true, Map.of(), Map.of()));
    }

    private ConfigException envError(Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> loader.load(null, false, env, Map.of()));
    }

    private static void assertMessageStartsWith(String prefix, ConfigException e) {
        assertTrue(e.getMessage().startsWith(prefix), "message should start with '" + prefix + "': " + e.getMessage());
    }

    // ---- defaults and the shipped file

    @Test
    void shippedConfigFileIsExactlyTheDefaults() {
        // Maven runs tests from the project root
        Path shipped = Path.of("config", "berth.yaml");
        assertTrue(Files.isRegularFile(shipped), "missing " + shipped.toAbsolutePath());
        assertEquals(BerthConfig.defaults(), loader.load(shipped, true, Map.of(), Map.of()));
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        BerthConfig d = BerthConfig.defaults();
        assertEquals("0.0.0.0:5000", d.http().listen());
        assertEquals(Duration.ofMinutes(2), d.http().idleTimeout());
        assertEquals(Duration.ofSeconds(30), d.http().shutdownTimeout());
        assertEquals("filesystem", d.storage().driver());
        assertEquals("storage", d.storage().root());
        assertTrue(d.storage().filesystem().fsync());
        assertEquals(Duration.ofDays(7), d.storage().uploads().purgeAfter());
        assertEquals(Duration.ofHours(1), d.storage().uploads().purgeInterval());
        assertEquals(DataSize.ofMebibytes(4), d.registry().maxManifestSize());
        assertTrue(d.registry().deleteEnabled());
        assertEquals(DataSize.ofMebibytes(32), d.registry().cache().manifestBytes());
        assertEquals(100_000, d.registry().cache().entries());
        assertEquals(new LogConfig("info", "text", true), d.log());
    }

    @Test
    void noFileGivesDefaults() {
        assertEquals(BerthConfig.defaults(), loader.load(null, false, Map.of(), Map.of()));
        assertEquals(BerthConfig.defaults(), loader.load(null, true, Map.of(), Map.of()));
    }

    @Test
    void missingFileThatIsNotRequiredGivesDefaults() {
        Path missing = dir.resolve("absent.yaml");
        assertEquals(BerthConfig.defaults(), loader.load(missing, false, Map.of(), Map.of()));
    }

    @Test
    void missingFileThatIsRequiredIsAnError() {
        Path missing = dir.resolve("absent.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> loader.load(missing, true, Map.of(), Map.of()));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "# only a comment\n", "---\n", "~\n"})
    void emptyFileGivesDefaults(String yaml) throws IOException {
        assertEquals(BerthConfig.defaults(), loadYaml(yaml));
    }

    @Test
    void partialFileKeepsOtherDefaults() throws IOException {
        BerthConfig c = loadYaml("""
                http:
                  listen: "127.0.0.1:6000"
                storage:
                  uploads:
                    purgeInterval: 5m
                registry:
                  deleteEnabled: false
                  cache:
                    entries: 10
                log:
                  level: DEBUG
                  format: json
                """);
        BerthConfig expected = new BerthConfig(
                new HttpConfig("127.0.0.1:6000", null, null),
                new StorageConfig(null, null, null, new UploadsConfig(null, Duration.ofMinutes(5))),
                null,
                new RegistryConfig(null, false, new CacheConfig(null, 10)),
                null,
                new LogConfig("DEBUG", "json", null));
        assertEquals(expected, c);
    }

    @Test
    void nullSectionsAndValuesKeepDefaults() throws IOException {
        assertEquals(BerthConfig.defaults(), loadYaml("""
                http:
                storage:
                  root: ~
                  filesystem: null
                """));
    }

    @Test
    void toYamlRoundTrips() throws IOException {
        BerthConfig custom = new BerthConfig(
                new HttpConfig("[::1]:7000", Duration.ofMillis(1500), Duration.ZERO),
                new StorageConfig("inmemory", "/data", new FilesystemConfig(false),
                        new UploadsConfig(Duration.ofHours(36), Duration.ofSeconds(90))),
                new BerthConfig.StateConfig(":memory:"),
                new RegistryConfig(DataSize.ofBytes(5000), false, new CacheConfig(DataSize.ofBytes(0), 0)),
                new BerthConfig.NotificationsConfig(java.util.List.of(new BerthConfig.EndpointConfig("ci",
                        "http://127.0.0.1:9/hook", Map.of("Authorization", "Bearer x"), Duration.ofSeconds(3), "s3cret",
                        new BerthConfig.FilterConfig(java.util.List.of("push"), java.util.List.of(),
                                java.util.List.of("team/**"), "manifest-pushed-by-tag"),
                        new BerthConfig.BackoffConfig(Duration.ofMillis(100), Duration.ofSeconds(2)), 3, 5, false)),
                        Duration.ofDays(2)),
                new LogConfig("warn", "json", false));
        assertEquals(custom, loadYaml(loader.toYaml(custom)));
        assertEquals(BerthConfig.defaults(), loadYaml(loader.toYaml(BerthConfig.defaults())));
    }

    // ---- environment variables

    @ParameterizedTest
    @CsvSource({
            "http.listen,                  BERTH_HTTP_LISTEN",
            "http.idleTimeout,             BERTH_HTTP_IDLE_TIMEOUT",
            "storage.root,                 BERTH_STORAGE_ROOT",
            "storage.filesystem.fsync,     BERTH_STORAGE_FILESYSTEM_FSYNC",
            "storage.uploads.purgeAfter,   BERTH_STORAGE_UPLOADS_PURGE_AFTER",
            "registry.maxManifestSize,     BERTH_REGISTRY_MAX_MANIFEST_SIZE",
            "registry.cache.manifestBytes, BERTH_REGISTRY_CACHE_MANIFEST_BYTES",
            "log.requests,                 BERTH_LOG_REQUESTS",
    })
    void envName(String key, String variable) {
        assertEquals(variable, ConfigLoader.envName(key));
    }

    @Test
    void environmentOverridesDefaults() {
        Map<String, String> env = Map.of(
                "BERTH_HTTP_LISTEN", "127.0.0.1:8080",
                "BERTH_STORAGE_ROOT", "/var/lib/berth",
                "BERTH_REGISTRY_MAX_MANIFEST_SIZE", "1MiB",
                "BERTH_STORAGE_FILESYSTEM_FSYNC", "false",
                "BERTH_STORAGE_UPLOADS_PURGE_AFTER", "30m",
                // neither is a Berth key; both must be ignored
                "PATH", "/usr/bin",
                "BERTH_SOMETHING_ELSE", "x");
        BerthConfig expected = new BerthConfig(
                new HttpConfig("127.0.0.1:8080", null, null),
                new StorageConfig(null, "/var/lib/berth", new FilesystemConfig(false),
                        new UploadsConfig(Duration.ofMinutes(30), null)),
                null,
                new RegistryConfig(DataSize.ofMebibytes(1), null, null),
                null,
                null);
        assertEquals(expected, loader.load(null, false, env, Map.of()));
    }

    @Test
    void environmentSetsNumbersAndBooleans() {
        BerthConfig c = loader.load(null, false, Map.of(
                "BERTH_REGISTRY_CACHE_ENTRIES", "42",
                "BERTH_REGISTRY_DELETE_ENABLED", "false",
                "BERTH_LOG_REQUESTS", "false",
                "BERTH_HTTP_SHUTDOWN_TIMEOUT", "0s"), Map.of());
        assertEquals(42, c.registry().cache().entries());
        assertFalse(c.registry().deleteEnabled());
        assertFalse(c.log().requests());
        assertEquals(Duration.ZERO, c.http().shutdownTimeout());
    }

    @Test
    void overridesBeatEnvironmentWhichBeatsFile() throws IOException {
        Path file = write("""
                http:
                  listen: "10.0.0.1:1000"
                storage:
                  root: /from/file
                log:
                  format: json
                """);
        Map<String, String> env = Map.of("BERTH_HTTP_LISTEN", "10.0.0.2:2000", "BERTH_STORAGE_ROOT", "/from/env");
        Map<String, String> overrides = Map.of("http.listen", "10.0.0.3:3000");

        BerthConfig fileOnly = loader.load(file, true, Map.of(), Map.of());
        assertEquals("10.0.0.1:1000", fileOnly.http().listen());
        assertEquals("/from/file", fileOnly.storage().root());

        BerthConfig withEnv = loader.load(file, true, env, Map.of());
        assertEquals("10.0.0.2:2000", withEnv.http().listen());
        assertEquals("/from/env", withEnv.storage().root());
        assertEquals("json", withEnv.log().format());

        BerthConfig all = loader.load(file, true, env, overrides);
        assertEquals("10.0.0.3:3000", all.http().listen());
        assertEquals("/from/env", all.storage().root());
        assertEquals("json", all.log().format());
    }

    @Test
    void overridesAloneUseDottedKeys() {
        BerthConfig c = loader.load(null, false, Map.of(), Map.of(
                "storage.driver", "inmemory",
                "registry.cache.manifestBytes", "1GiB",
                "storage.uploads.purgeInterval", "250ms"));
        assertEquals("inmemory", c.storage().driver());
        assertEquals(DataSize.ofBytes(1L << 30), c.registry().cache().manifestBytes());
        assertEquals(Duration.ofMillis(250), c.storage().uploads().purgeInterval());
    }

    // ---- errors name the key

    @Test
    void unknownKeyInFile() throws IOException {
        ConfigException e = yamlError("""
                http:
                  lisen: "0.0.0.0:5000"
                """);
        assertMessageStartsWith("http.lisen: unknown key", e);
        // it lists what would have been valid
        assertTrue(e.getMessage().contains("listen"), e.getMessage());
    }

    @Test
    void unknownNestedAndTopLevelKeys() throws IOException {
        assertMessageStartsWith("storage.filesystem.fsynk: unknown key", yamlError("""
                storage:
                  filesystem:
                    fsynk: true
                """));
        assertMessageStartsWith("htp: unknown key", yamlError("htp:\n  listen: x\n"));
        // a leaf used as a section
        ConfigException e = yamlError("""
                http:
                  listen:
                    host: x
                """);
        assertTrue(e.getMessage().contains("http.listen"), e.getMessage());
    }

    @Test
    void sectionGivenAsScalar() throws IOException {
        assertMessageStartsWith("http: expected a mapping", yamlError("http: 5\n"));
    }

    @Test
    void unknownKeyInOverride() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader.load(null, false, Map.of(), Map.of("http.lisen", "x:1")));
        assertMessageStartsWith("http.lisen", e);
        assertTrue(e.getMessage().contains("unknown key"), e.getMessage());
        ConfigException nested = assertThrows(ConfigException.class,
                () -> loader.load(null, false, Map.of(), Map.of("nope.listen", "x:1")));
        assertMessageStartsWith("nope.listen", nested);
    }

    @Test
    void badDurationInFile() throws IOException {
        ConfigException e = yamlError("""
                http:
                  idleTimeout: soon
                """);
        assertMessageStartsWith("http.idleTimeout: ", e);
        assertTrue(e.getMessage().contains("soon"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"30", "1.5h", "-1s", "1w", "PT1M", "999999999999999999999d", "9999999999999999d"})
    void badDurationInEnvironment(String value) {
        assertMessageStartsWith("storage.uploads.purgeAfter: ",
                envError(Map.of("BERTH_STORAGE_UPLOADS_PURGE_AFTER", value)));
    }

    @Test
    void badSizeInFile() throws IOException {
        ConfigException e = yamlError("""
                registry:
                  maxManifestSize: 4 megabytes
                """);
        assertMessageStartsWith("registry.maxManifestSize: ", e);
        assertTrue(e.getMessage().contains("4 megabytes"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "big", "-1", "1.5MiB", "4XB", "99999999999999999999", "9999999TiB"})
    void badSizeInEnvironment(String value) {
        assertMessageStartsWith("registry.cache.manifestBytes: ",
                envError(Map.of("BERTH_REGISTRY_CACHE_MANIFEST_BYTES", value)));
    }

    @Test
    void badBooleanAndNumber() {
        assertMessageStartsWith("storage.filesystem.fsync: ",
                envError(Map.of("BERTH_STORAGE_FILESYSTEM_FSYNC", "maybe")));
        assertMessageStartsWith("registry.cache.entries: ",
                envError(Map.of("BERTH_REGISTRY_CACHE_ENTRIES", "many")));
    }

    @Test
    void unknownDriver() throws IOException {
        ConfigException e = yamlError("""
                storage:
                  driver: gcs
                """);
        assertMessageStartsWith("storage.driver: ", e);
        assertTrue(e.getMessage().contains("gcs"), e.getMessage());
        assertTrue(e.getMessage().contains("filesystem"), e.getMessage());
        assertTrue(e.getMessage().contains("s3"), e.getMessage());
    }

    @Test
    void s3SettingsComeFromYamlAndEnvironment() {
        BerthConfig c = loader.load(null, false, Map.of("BERTH_STORAGE_S3_SECRET_KEY", "s3cret",
                "BERTH_STORAGE_S3_ACCESS_KEY", "AKIA"), Map.of("storage.driver", "s3", "storage.s3.bucket", "blobs",
                "storage.s3.partSize", "32MiB", "storage.s3.endpoint", "http://minio:9000"));
        assertEquals("blobs", c.storage().s3().bucket());
        assertEquals("AKIA", c.storage().s3().accessKey());
        assertEquals("s3cret", c.storage().s3().secretKey());
        assertEquals(32L << 20, c.storage().s3().partSize().bytes());
        assertEquals(Boolean.TRUE, c.storage().s3().redirect());
        assertEquals(Duration.ofSeconds(5), c.storage().s3().metadataTtl());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "storage.s3.bucket|              | storage.s3.bucket: required",
            "storage.s3.bucket| Bad_Bucket   | storage.s3.bucket: ",
            "storage.s3.region| ' '          | storage.s3.region: ",
            "storage.s3.endpoint| minio:9000 | storage.s3.endpoint: ",
            "storage.s3.prefix| ../x         | storage.s3.prefix: ",
            "storage.s3.accessKey| AKIA      | storage.s3.secretKey: ",
            "storage.s3.secretKey| s         | storage.s3.accessKey: ",
            "storage.s3.partSize| 1MiB       | storage.s3.partSize: ",
            "storage.s3.partSize| 2GiB       | storage.s3.partSize: ",
            "storage.s3.maxConcurrency| 0    | storage.s3.maxConcurrency: ",
            "storage.s3.presignTtl| 8d       | storage.s3.presignTtl: ",
            "storage.s3.presignTtl| 0s       | storage.s3.presignTtl: ",
    })
    void badS3SettingsNameTheKey(String key, String value, String message) {
        Map<String, String> overrides = new java.util.HashMap<>(Map.of("storage.driver", "s3", "storage.s3.bucket", "blobs"));
        overrides.put(key, value == null ? "" : value);
        ConfigException e = assertThrows(ConfigException.class, () -> loader.load(null, false, Map.of(), overrides));
        assertMessageStartsWith(message.trim(), e);
    }

    @Test
    void mirrorUpstreamsLoadWithDefaults() throws IOException {
        Path file = write("""
                mirror:
                  upstreams:
                    - name: hub
                      url: https://registry-1.docker.io
                      host: docker.io
                      default: true
                    - name: quay
                      url: https://quay.io
                      prefix: quay/
                      token: abc
                      tagTtl: 1m
                """);
        BerthConfig c = loader.load(file, true, Map.of(), Map.of());
        assertEquals(2, c.mirror().upstreams().size());
        BerthConfig.UpstreamConfig hub = c.mirror().upstreams().get(0);
        assertTrue(hub.isDefault());
        assertEquals(Duration.ofMinutes(5), hub.tagTtl());
        assertEquals("", hub.prefix());
        assertEquals(Duration.ofMinutes(1), c.mirror().upstreams().get(1).tagTtl());
        assertEquals(java.util.List.of(), BerthConfig.defaults().mirror().upstreams());
        BerthConfig.MirrorCacheConfig cache = BerthConfig.defaults().mirror().cache();
        assertEquals(0, cache.maxSize().bytes());
        assertEquals(Duration.ofDays(7), cache.ttl());
        assertEquals(Duration.ofMinutes(1), cache.evictInterval());
    }

    @Test
    void tlsLoadsAndBadTlsSettingsNameTheKey() throws IOException {
        BerthConfig.TlsConfig defaults = BerthConfig.defaults().tls();
        assertFalse(defaults.enabled());
        assertEquals("TLSv1.2", defaults.minVersion());
        BerthConfig c = loader.load(write("""
                tls: {auto: true, names: [registry.example, 10.0.0.7, "::1"], minVersion: TLSv1.3}
                """), true, Map.of(), Map.of());
        assertTrue(c.tls().enabled());
        assertEquals(java.util.List.of("registry.example", "10.0.0.7", "::1"), c.tls().names());
        assertTrue(loader.load(null, false, Map.of("BERTH_TLS_AUTO", "true"), Map.of()).tls().auto());
        assertMessageStartsWith("tls.auto: ", yamlError("tls: {auto: true, certFile: a.crt, keyFile: a.key}\n"));
        assertMessageStartsWith("tls.keyFile: ", yamlError("tls: {certFile: a.crt}\n"));
        assertMessageStartsWith("tls.certFile: ", yamlError("tls: {keyFile: a.key}\n"));
        assertMessageStartsWith("tls.minVersion: ", yamlError("tls: {auto: true, minVersion: TLSv1.1}\n"));
        assertMessageStartsWith("tls.names[1]: ", yamlError("tls: {auto: true, names: [ok.example, 'bad name']}\n"));
        assertMessageStartsWith("tls.names: ", yamlError("tls: {certFile: a.crt, keyFile: a.key, names: [x]}\n"));
        assertEquals(Duration.ofDays(365), defaults.agentCertificateTtl());
        assertEquals(Duration.ofDays(90), loader.load(write("tls: {auto: true, agentCertificateTtl: 90d}\n"), true,
                Map.of(), Map.of()).tls().agentCertificateTtl());
        assertMessageStartsWith("tls.agentCertificateTtl: ", yamlError("tls: {auto: true, agentCertificateTtl: 5s}\n"));
        assertMessageStartsWith("tls.agentCertificateTtl: ", yamlError("tls: {auto: true, agentCertificateTtl: 3651d}\n"));
    }

    @Test
    void authLoadsAndBadAuthSettingsNameTheKey() throws IOException {
        BerthConfig.AuthConfig defaults = BerthConfig.defaults().auth();
        assertFalse(defaults.enabled());
        assertEquals(java.util.List.of("admin"), defaults.admins().groups());
        BerthConfig c = loader.load(write("""
                auth:
                  mode: token
                  rules:
                    - {repositories: ["team/**"], groups: [team], actions: [pull, push]}
                    - {repositories: ["public/*"], anonymous: true, actions: ["*"]}
                """), true, Map.of(), Map.of());
        assertTrue(c.auth().enabled());
        assertEquals(2, c.auth().rules().size());
        assertTrue(c.auth().rules().get(1).anonymous());
        assertEquals("basic", loader.load(null, false, Map.of("BERTH_AUTH_MODE", "basic"), Map.of()).auth().mode());
        assertMessageStartsWith("auth.mode: ", yamlError("auth: {mode: ldap}\n"));
        assertMessageStartsWith("auth.tokenTtl: ", yamlError("auth: {tokenTtl: 2d}\n"));
        assertMessageStartsWith("auth.realm: ", yamlError("auth: {realm: not-a-url}\n"));
        assertMessageStartsWith("auth.rules[0].repositories: ", yamlError("auth: {rules: [{users: [a], actions: [pull]}]}\n"));
        assertMessageStartsWith("auth.rules[0].repositories: ",
                yamlError("auth: {rules: [{repositories: ['Team/App'], users: [a], actions: [pull]}]}\n"));
        assertMessageStartsWith("auth.rules[0].actions: ",
                yamlError("auth: {rules: [{repositories: [a], users: [a], actions: [write]}]}\n"));
        assertMessageStartsWith("auth.rules[1]: ", yamlError(
                "auth: {rules: [{repositories: [a], users: [a], actions: [pull]}, {repositories: [b], actions: [pull]}]}\n"));
    }

    @Test
    void clientLimitsLoadAndBadOnesNameTheKey() throws IOException {
        BerthConfig.LimitsConfig defaults = BerthConfig.defaults().limits();
        assertEquals(16 * 1024, defaults.maxHeaderSize().bytes());
        assertEquals(0.0, defaults.requestsPerSecond());
        BerthConfig c = loader.load(write("limits: {requestsPerSecond: 2.5, concurrentUploads: 4}\n"), true, Map.of(), Map.of());
        assertEquals(5, c.limits().effectiveBurst());
        assertEquals(4, c.limits().concurrentUploads());
        assertEquals(10.0, loader.load(null, false, Map.of("BERTH_LIMITS_REQUESTS_PER_SECOND", "10"), Map.of())
                .limits().requestsPerSecond());
        assertMessageStartsWith("limits.requestsPerSecond: ", yamlError("limits: {requestsPerSecond: -1}\n"));
        assertMessageStartsWith("limits.burst: ", yamlError("limits: {burst: -1}\n"));
        assertMessageStartsWith("limits.concurrentUploads: ", yamlError("limits: {concurrentUploads: -2}\n"));
        assertMessageStartsWith("limits.maxHeaderSize: ", yamlError("limits: {maxHeaderSize: 100}\n"));
    }

    @Test
    void theAuditLogSettingsLoadAndBadOnesNameTheKey() throws IOException {
        assertEquals("audit.log", BerthConfig.defaults().audit().file());
        assertEquals(5, BerthConfig.defaults().audit().maxFiles());
        assertEquals("", loader.load(null, false, Map.of("BERTH_AUDIT_FILE", ""), Map.of()).audit().file());
        assertMessageStartsWith("audit.maxFileSize: ", yamlError("audit: {maxFileSize: 10}\n"));
        assertMessageStartsWith("audit.maxFiles: ", yamlError("audit: {maxFiles: 0}\n"));
    }

    @Test
    void theMirrorCacheLimitsLoad() throws IOException {
        BerthConfig c = loader.load(write("""
                mirror:
                  cache: {maxSize: 50GiB, ttl: 0s, evictInterval: 30s}
                """), true, Map.of(), Map.of());
        assertEquals(50L << 30, c.mirror().cache().maxSize().bytes());
        assertEquals(Duration.ZERO, c.mirror().cache().ttl());
        assertEquals(Duration.ofSeconds(30), c.mirror().cache().evictInterval());
        assertMessageStartsWith("mirror.cache.evictInterval: ", yamlError("mirror:\n  cache: {evictInterval: 0s}\n"));
        assertMessageStartsWith("mirror.cache.ttl: ", yamlError("mirror:\n  cache: {ttl: -1s}\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "name: Hub, url: 'http://h', host: a.io                           | mirror.upstreams[0].name: ",
            "name: hub, url: 'ftp://h', host: a.io                            | mirror.upstreams[0].url: ",
            "name: hub, url: 'http://h/v2/', host: a.io                       | mirror.upstreams[0].url: ",
            "name: hub, url: 'http://h', host: 'a.io/x'                       | mirror.upstreams[0].host: ",
            "name: hub, url: 'http://h', prefix: hub                          | mirror.upstreams[0].prefix: ",
            "name: hub, url: 'http://h'                                       | mirror.upstreams[0]: no request",
            "name: hub, url: 'http://h', host: a.io, username: u              | mirror.upstreams[0].password: ",
            "name: hub, url: 'http://h', host: a.io, token: t, username: u, password: p | mirror.upstreams[0].token: ",
            "name: hub, url: 'http://h', host: a.io, timeout: 0s              | mirror.upstreams[0].timeout: ",
    })
    void badMirrorUpstreamsNameTheKey(String upstream, String message) throws IOException {
        ConfigException e = yamlError("mirror:\n  upstreams:\n    - {" + upstream.trim() + "}\n");
        assertMessageStartsWith(message.trim(), e);
    }

    @Test
    void mirrorUpstreamsMustNotCollide() throws IOException {
        assertMessageStartsWith("mirror.upstreams[1].name: ", yamlError("""
                mirror:
                  upstreams:
                    - {name: hub, url: 'http://a', host: a.io}
                    - {name: hub, url: 'http://b', host: b.io}
                """));
        assertMessageStartsWith("mirror.upstreams[1].host: ", yamlError("""
                mirror:
                  upstreams:
                    - {name: a, url: 'http://a', host: docker.io}
                    - {name: b, url: 'http://b', host: docker.io}
                """));
        assertMessageStartsWith("mirror.upstreams[1].prefix: ", yamlError("""
                mirror:
                  upstreams:
                    - {name: a, url: 'http://a', prefix: hub/}
                    - {name: b, url: 'http://b', prefix: hub/library/}
                """));
        assertMessageStartsWith("mirror.upstreams[1].default: ", yamlError("""
                mirror:
                  upstreams:
                    - {name: a, url: 'http://a', default: true}
                    - {name: b, url: 'http://b', default: true}
                """));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", ":5000", "0.0.0.0:", "0.0.0.0:http", "0.0.0.0:65536", "0.0.0.0:-1", ""})
    void badListenAddress(String listen) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader.load(null, false, Map.of(), Map.of("http.listen", listen)));
        assertMessageStartsWith("http.listen: ", e);
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:0", "[::]:5000", "localhost:65535", "0.0.0.0:80"})
    void goodListenAddress(String listen) {
        assertEquals(listen, loader.load(null, false, Map.of(), Map.of("http.listen", listen)).http().listen());
    }

    @ParameterizedTest
    @ValueSource(strings = {"xml", "plain", ""})
    void badLogFormat(String format) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader.load(null, false, Map.of(), Map.of("log.format", format)));
        assertMessageStartsWith("log.format: ", e);
    }

    @Test
    void otherValidationErrors() {
        assertMessageStartsWith("log.level: ", envError(Map.of("BERTH_LOG_LEVEL", "verbose")));
        assertMessageStartsWith("http.idleTimeout: ", envError(Map.of("BERTH_HTTP_IDLE_TIMEOUT", "0s")));
        assertMessageStartsWith("storage.uploads.purgeInterval: ",
                envError(Map.of("BERTH_STORAGE_UPLOADS_PURGE_INTERVAL", "0ms")));
        assertMessageStartsWith("registry.maxManifestSize: ", envError(Map.of("BERTH_REGISTRY_MAX_MANIFEST_SIZE", "1023")));
        assertMessageStartsWith("registry.cache.entries: ", envError(Map.of("BERTH_REGISTRY_CACHE_ENTRIES", "-1")));
        assertMessageStartsWith("storage.root: ", envError(Map.of("BERTH_STORAGE_ROOT", "  ")));
        // the smallest accepted manifest limit
        assertEquals(DataSize.ofBytes(1024), loader.load(null, false,
                Map.of("BERTH_REGISTRY_MAX_MANIFEST_SIZE", "1KiB"), Map.of()).registry().maxManifestSize());
    }

    @Test
    void duplicateSectionInFileIsAnError() throws IOException {
        // the second "http" would otherwise silently discard the listen address set by the first
        ConfigException e = yamlError("""
                http:
                  listen: "127.0.0.1:6000"
                http:
                  idleTimeout: 5s
                """);
        assertTrue(e.getMessage().contains("http"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"- http\n- storage\n", "just a string\n", "42\n"})
    void topLevelMustBeAMapping(String yaml) throws IOException {
        ConfigException e = yamlError(yaml);
        assertTrue(e.getMessage().contains("mapping"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "http: [unclosed\n",
            "http:\n  listen: \"0.0.0.0:5000\n",
            "http:\n\tlisten: x\n",
            "http:\n  listen: a\n listen: b\n",
    })
    void invalidYaml(String yaml) throws IOException {
        ConfigException e = yamlError(yaml);
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        assertTrue(e.getMessage().contains("berth.yaml"), e.getMessage());
    }

    // ---- DataSize and Durations

    @ParameterizedTest
    @CsvSource({
            "4MiB,        4194304,         4MiB",
            "512KiB,      524288,          512KiB",
            "1GiB,        1073741824,      1GiB",
            "2TiB,        2199023255552,   2TiB",
            "4096,        4096,            4KiB",
            "1000,        1000,            1000",
            "1kb,         1000,            1000",
            "100MB,       100000000,       100000000",
            "1GB,         1000000000,      1000000000",
            // 10^12 happens to be a whole number of KiB
            "1TB,         1000000000000,   976562500KiB",
            "7b,          7,               7",
            "0,           0,               0",
            "1536KiB,     1572864,         1536KiB",
            "1024MiB,     1073741824,      1GiB",
            "'  3 mib ',  3145728,         3MiB",
            "8 GIB,       8589934592,      8GiB",
    })
    void dataSizeParseAndToString(String text, long bytes, String formatted) {
        DataSize size = DataSize.parse(text);
        assertEquals(bytes, size.bytes());
        assertEquals(formatted, size.toString());
        assertEquals(size, DataSize.parse(size.toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "big", "-1", "1.5MiB", "MiB", "4XB", "4 MiB s", "4MiBs", "0x10",
            "99999999999999999999"})
    void dataSizeRejectsMalformed(String text) {
        assertThrows(IllegalArgumentException.class, () -> DataSize.parse(text));
    }

    @Test
    void dataSizeMustNotBeNegative() {
        assertThrows(IllegalArgumentException.class, () -> DataSize.ofBytes(-1));
    }

    @ParameterizedTest
    @CsvSource({
            "250ms,   PT0.25S,  250ms",
            "1500ms,  PT1.5S,   1500ms",
            "1000ms,  PT1S,     1s",
            "30s,     PT30S,    30s",
            "90s,     PT1M30S,  90s",
            "120s,    PT2M,     2m",
            "10m,     PT10M,    10m",
            "90m,     PT1H30M,  90m",
            "168h,    PT168H,   7d",
            "25h,     PT25H,    25h",
            "7d,      PT168H,   7d",
            "0s,      PT0S,     0s",
            "0ms,     PT0S,     0s",
            "'  5 M ', PT5M,    5m",
            "2D,      PT48H,    2d",
    })
    void durationsParseAndFormat(String text, String iso, String formatted) {
        Duration d = Durations.parse(text);
        assertEquals(Duration.parse(iso), d);
        assertEquals(formatted, Durations.format(d));
        assertEquals(d, Durations.parse(Durations.format(d)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "5", "m", "1.5h", "-1s", "1w", "1y", "1 hour", "PT1M", "1h30m", "ms5"})
    void durationsRejectMalformed(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().contains("not a duration"), e.getMessage());
    }
}
