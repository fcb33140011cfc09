package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.config.BerthConfig.EndpointConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code notifications} section: endpoints load with their defaults filled in, and every
 * invalid value is refused with a {@link ConfigException} whose message names the offending key.
 */
class WebhookConfigTest {
    private final ConfigLoader loader = new ConfigLoader();

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private BerthConfig load(String yaml) throws IOException {
        return loader.load(write(yaml), true, Map.of(), Map.of());
    }

    /** The YAML for one endpoint named {@code hook} with extra lines (already indented for the endpoint). */
    private static String oneEndpoint(String extra) {
        return """
                notifications:
                  endpoints:
                    - name: hook
                      url: http://127.0.0.1:8080/hook
                """ + extra;
    }

    /** Loading fails and the message starts with {@code key}; returns the message. */
    private String assertRejected(String yaml, String key) throws IOException {
        Path file = write(yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> loader.load(file, true, Map.of(), Map.of()),
                "should be refused:\n" + yaml);
        String message = e.getMessage();
        assertTrue(message.startsWith(key), "message should name '" + key + "': " + message);
        return message;
    }

    // ---------------------------------------------------------------- valid endpoints

    @Test
    void noEndpointsByDefault() {
        BerthConfig c = loader.load(null, false, Map.of(), Map.of());
        assertTrue(c.notifications().endpoints().isEmpty());
        assertEquals(Duration.ofDays(7), c.notifications().retention());
    }

    @Test
    void minimalEndpointGetsEveryDefault() throws IOException {
        BerthConfig c = load(oneEndpoint(""));
        assertEquals(1, c.notifications().endpoints().size());
        EndpointConfig e = c.notifications().endpoints().get(0);
        assertEquals("hook", e.name());
        assertEquals("http://127.0.0.1:8080/hook", e.url());
        assertEquals(Duration.ofSeconds(5), e.timeout());
        assertEquals(Duration.ofSeconds(1), e.backoff().initial());
        assertEquals(Duration.ofMinutes(5), e.backoff().max());
        assertEquals(10, e.maxAttempts());
        assertEquals(10, e.batchSize());
        assertFalse(e.disabled());
        assertEquals("", e.secret());
        assertTrue(e.headers().isEmpty());
        assertTrue(e.filter().actions().isEmpty());
        assertTrue(e.filter().mediaTypes().isEmpty());
        assertTrue(e.filter().repositories().isEmpty());
        assertEquals("", e.filter().preset());
        assertEquals(Duration.ofDays(7), c.notifications().retention());
    }

    @Test
    void everyKeyIsRead() throws IOException {
        BerthConfig c = load("""
                notifications:
                  retention: 36h
                  endpoints:
                    - name: audit
                      url: https://audit.example.com/registry-events
                      headers:
                        Authorization: "Bearer x"
                        X-Team: platform
                      timeout: 1500ms
                      secret: s3cret
                      backoff:
                        initial: 250ms
                        max: 30s
                      maxAttempts: 3
                      batchSize: 1000
                      disabled: true
                      filter:
                        actions: [push, delete]
                        mediaTypes: [application/vnd.oci.image.manifest.v1+json]
                        repositories: ["team/**", "solo", "a?c/*.svc"]
                        preset: manifest-pushed-by-tag
                    - name: ci_2.x-y
                      url: http://ci.internal:8080
                      batchSize: 1
                      maxAttempts: 1
                """);
        assertEquals(Duration.ofHours(36), c.notifications().retention());
        List<EndpointConfig> endpoints = c.notifications().endpoints();
        assertEquals(2, endpoints.size());
        EndpointConfig a = endpoints.get(0);
        assertEquals("audit", a.name());
        assertEquals("https://audit.example.com/registry-events", a.url());
        assertEquals(Map.of("Authorization", "Bearer x", "X-Team", "platform"), a.headers());
        assertEquals(Duration.ofMillis(1500), a.timeout());
        assertEquals("s3cret", a.secret());
        assertEquals(Duration.ofMillis(250), a.backoff().initial());
        assertEquals(Duration.ofSeconds(30), a.backoff().max());
        assertEquals(3, a.maxAttempts());
        assertEquals(1000, a.batchSize());
        assertTrue(a.disabled());
        assertEquals(List.of("push", "delete"), a.filter().actions());
        assertEquals(List.of("application/vnd.oci.image.manifest.v1+json"), a.filter().mediaTypes());
        assertEquals(List.of("team/**", "solo", "a?c/*.svc"), a.filter().repositories());
        assertEquals("manifest-pushed-by-tag", a.filter().preset());

        EndpointConfig b = endpoints.get(1);
        assertEquals("ci_2.x-y", b.name());
        assertEquals(1, b.batchSize());
        assertEquals(1, b.maxAttempts());
        assertEquals(Duration.ofSeconds(5), b.timeout());
        assertFalse(b.disabled());
    }

    @Test
    void partialBackoffKeepsTheOtherDefault() throws IOException {
        EndpointConfig e = load(oneEndpoint("""
                      backoff:
                        initial: 10s
                """)).notifications().endpoints().get(0);
        assertEquals(Duration.ofSeconds(10), e.backoff().initial());
        assertEquals(Duration.ofMinutes(5), e.backoff().max());
    }

    @Test
    void backoffMaxEqualToInitialIsAccepted() throws IOException {
        EndpointConfig e = load(oneEndpoint("""
                      backoff:
                        initial: 2s
                        max: 2s
                """)).notifications().endpoints().get(0);
        assertEquals(e.backoff().initial(), e.backoff().max());
    }

    // ---------------------------------------------------------------- keys and names

    @Test
    void unknownKeyInsideAnEndpoint() throws IOException {
        String m = assertRejected("""
                notifications:
                  endpoints:
                    - name: hook
                      urll: http://127.0.0.1/hook
                """, "notifications.endpoints[0].urll");
        assertTrue(m.contains("urll"), m);
    }

    @Test
    void unknownKeyInSecondEndpointsFilter() throws IOException {
        assertRejected("""
                notifications:
                  endpoints:
                    - name: a
                      url: http://127.0.0.1/a
                    - name: b
                      url: http://127.0.0.1/b
                      filter:
                        action: [push]
                """, "notifications.endpoints[1].filter.action");
    }

    @Test
    void unknownKeyInNotifications() throws IOException {
        assertRejected("""
                notifications:
                  endpoint: []
                """, "notifications.endpoint");
    }

    @Test
    void missingName() throws IOException {
        assertRejected("""
                notifications:
                  endpoints:
                    - url: http://127.0.0.1/hook
                """, "notifications.endpoints[0].name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "has space", "-leading-dash", "a/b", "x0123456789012345678901234567890123456789012345678901234567890123"})
    void badName(String name) throws IOException {
        assertRejected("""
                notifications:
                  endpoints:
                    - name: %s
                      url: http://127.0.0.1/hook
                """.formatted(name), "notifications.endpoints[0].name");
    }

    @Test
    void duplicateNames() throws IOException {
        String m = assertRejected("""
                notifications:
                  endpoints:
                    - name: a
                      url: http://127.0.0.1/a
                    - name: b
                      url: http://127.0.0.1/b
                    - name: a
                      url: http://127.0.0.1/c
                """, "notifications.endpoints[2].name");
        assertTrue(m.contains("'a'"), m);
    }

    @Test
    void errorsNameTheRightIndex() throws IOException {
        assertRejected("""
                notifications:
                  endpoints:
                    - name: a
                      url: http://127.0.0.1/a
                    - name: b
                      url: http://127.0.0.1/b
                      maxAttempts: 0
                """, "notifications.endpoints[1].maxAttempts");
    }

    // ---------------------------------------------------------------- url

    @Test
    void missingUrl() throws IOException {
        String m = assertRejected("""
                notifications:
                  endpoints:
                    - name: hook
                """, "notifications.endpoints[0].url");
        assertTrue(m.contains("required"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/relative/hook", "hooks.example.com/hook", "ftp://example.com/hook", "http:///nohost",
            "https://", "mailto:ops@example.com", "http://exa mple.com/", "file:///tmp/hook", "\"  \"", "http://:8080/x"})
    void badUrl(String url) throws IOException {
        assertRejected("""
                notifications:
                  endpoints:
                    - name: hook
                      url: %s
                """.formatted(url), "notifications.endpoints[0].url");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:9000/hook", "https://hooks.example.com", "http://[::1]:8080/x?y=1",
            "http://deploy_hook:8080/in", "https://user:pw@hooks.example.com/in"})
    void goodUrl(String url) throws IOException {
        BerthConfig c = load("""
                notifications:
                  endpoints:
                    - name: hook
                      url: "%s"
                """.formatted(url));
        assertEquals(url, c.notifications().endpoints().get(0).url());
    }

    // ---------------------------------------------------------------- durations and numbers

    @ParameterizedTest
    @ValueSource(strings = {"0s", "0ms", "-5s", "soon"})
    void badTimeout(String timeout) throws IOException {
        assertRejected(oneEndpoint("      timeout: " + timeout + "\n"), "notifications.endpoints[0].timeout");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0s", "-1s"})
    void badBackoffInitial(String initial) throws IOException {
        assertRejected(oneEndpoint("""
                      backoff:
                        initial: %s
                """.formatted(initial)), "notifications.endpoints[0].backoff.initial");
    }

    @Test
    void backoffMaxBelowInitial() throws IOException {
        String m = assertRejected(oneEndpoint("""
                      backoff:
                        initial: 10s
                        max: 5s
                """), "notifications.endpoints[0].backoff.max");
        assertTrue(m.contains("initial"), m);
    }

    @Test
    void backoffMaxBelowTheDefaultInitial() throws IOException {
        assertRejected(oneEndpoint("""
                      backoff:
                        max: 500ms
                """), "notifications.endpoints[0].backoff.max");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1})
    void badMaxAttempts(int n) throws IOException {
        assertRejected(oneEndpoint("      maxAttempts: " + n + "\n"), "notifications.endpoints[0].maxAttempts");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 1001, 100000})
    void badBatchSize(int n) throws IOException {
        String m = assertRejected(oneEndpoint("      batchSize: " + n + "\n"), "notifications.endpoints[0].batchSize");
        assertTrue(m.contains("1000"), m);
    }

    @Test
    void nonNumericMaxAttempts() throws IOException {
        assertRejected(oneEndpoint("      maxAttempts: many\n"), "notifications.endpoints[0].maxAttempts");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1d", "0s", "forever"})
    void badRetention(String retention) throws IOException {
        assertRejected("""
                notifications:
                  retention: %s
                """.formatted(retention), "notifications.retention");
    }

    // ---------------------------------------------------------------- filter and headers

    @Test
    void unknownAction() throws IOException {
        String m = assertRejected(oneEndpoint("""
                      filter:
                        actions: [push, upload]
                """), "notifications.endpoints[0].filter.actions");
        assertTrue(m.contains("'upload'"), m);
    }

    @Test
    void unknownPreset() throws IOException {
        String m = assertRejected(oneEndpoint("""
                      filter:
                        preset: every-push
                """), "notifications.endpoints[0].filter.preset");
        assertTrue(m.contains("'every-push'"), m);
        assertTrue(m.contains("manifest-pushed-by-tag"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Team/*", "team app", "", "  ", "team/[ab]", "team\\\\app", "team/+", "t\u00e9am/*"})
    void badRepositoryGlob(String glob) throws IOException {
        assertRejected(oneEndpoint("""
                      filter:
                        repositories: ["%s"]
                """.formatted(glob)), "notifications.endpoints[0].filter.repositories");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"Bad Header\"", "X_Underscore", "\"X:Colon\"", "\"Ünicode\""})
    void badHeaderName(String header) throws IOException {
        assertRejected(oneEndpoint("""
                      headers:
                        %s: value
                """.formatted(header)), "notifications.endpoints[0].headers");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"line\\nbreak\"", "\"carriage\\rreturn\"", "\"caf\u00e9\"", "\"nul\\0\""})
    void badHeaderValue(String value) throws IOException {
        String m = assertRejected(oneEndpoint("""
                      headers:
                        X-Token: %s
                """.formatted(value)), "notifications.endpoints[0].headers.X-Token");
        assertTrue(m.contains("printable ASCII"), m);
    }

    @Test
    void headerValuesWithSpacesTabsAndPunctuationAreAccepted() throws IOException {
        BerthConfig c = load(oneEndpoint("""
                      headers:
                        Authorization: "Bearer abc.def-123_~+/="
                        X-Note: "a\tb; c=\\"d\\""
                """));
        assertEquals("Bearer abc.def-123_~+/=", c.notifications().endpoints().get(0).headers().get("Authorization"));
        assertEquals("a\tb; c=\"d\"", c.notifications().endpoints().get(0).headers().get("X-Note"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"9999999999999999999d", "106751991167301d", "99999999999999999999ms"})
    void durationTooLargeIsAConfigErrorNamingTheKey(String timeout) throws IOException {
        assertRejected(oneEndpoint("      timeout: " + timeout + "\n"), "notifications.endpoints[0].timeout");
    }

    // ---------------------------------------------------------------- berth serve

    @Test
    @Timeout(60)
    void serveExitsWithStatus2AndNamesTheKeyForABadEndpointUrl() throws Exception {
        Path config = dir.resolve("bad-webhook.yaml");
        Files.writeString(config, """
                notifications:
                  endpoints:
                    - name: hook
                      url: ftp://example.com/hook
                """);
        Path storage = dir.resolve("storage");
        Path output = dir.resolve("serve.out");
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), "dev.berth.app.Main",
                "serve", "--config", config.toString(), "--listen", "127.0.0.1:0", "--storage", storage.toString())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        pb.environment().remove("BERTH_CONFIG");
        Process p = pb.start();
        if (!p.waitFor(45, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("berth serve kept running with an invalid webhook URL:\n"
                    + Files.readString(output, StandardCharsets.UTF_8));
        }
        String out = Files.readString(output, StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("notifications.endpoints[0].url"), out);
        assertTrue(out.contains("configuration error"), out);
    }
}
