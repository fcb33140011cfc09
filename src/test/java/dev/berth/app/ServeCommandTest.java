package dev.berth.app;

import static dev.berth.testing.Fixtures.OCI_CONFIG;
import static dev.berth.testing.Fixtures.OCI_LAYER;
import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.descriptor;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.testing.BerthProcess;
import dev.berth.testing.RegistryClient;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth serve} (and the top-level {@code berth} command) as a real separate process: the
 * request log in text and JSON, configuration layering (file, environment, flags), rejection of
 * bad configuration, graceful shutdown on SIGTERM, and the help and version output.
 */
class ServeCommandTest {
    /** A text log line: timestamp, level, logger (last component), message, then key="value" pairs. */
    private static final Pattern TEXT_LINE = Pattern.compile("^(\\S+) (TRACE|DEBUG|INFO|WARN|ERROR)\\s+(\\S+) - (\\S+)(.*)$");
    private static final Pattern KEY_VALUE = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final List<String> ACCESS_KEYS = List.of("method", "path", "status", "bytes", "ms", "remote");
    private static final String MISSING_MANIFEST = "/v2/missing/repo/manifests/latest";

    // ---------------------------------------------------------------- 1. request log (text)

    @Test
    @Timeout(90)
    void textRequestLogHasOneStructuredInfoLinePerRequest(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("berth.log");
        try (BerthProcess berth = BerthProcess.start(dir.resolve("storage"), log, Map.of())) {
            int before = settledLineCount(berth);
            RegistryClient client = berth.client();
            HttpResponse<byte[]> base = client.get("/v2/");
            expect(base, 200);
            HttpResponse<byte[]> missing = client.get(MISSING_MANIFEST);
            assertError(missing, 404, "MANIFEST_UNKNOWN");

            List<String> lines = awaitNewLines(berth, before, l -> l.contains(" - request"), 2);
            String out = berth.output();
            assertEquals(2, lines.size(), () -> "expected exactly one request line per request:\n" + out);

            Map<String, String> ok = textAccessLine(lines, "/v2/", out);
            assertEquals("GET", ok.get("method"), out);
            assertEquals("/v2/", ok.get("path"), out);
            assertEquals("200", ok.get("status"), out);
            assertEquals(String.valueOf(base.body().length), ok.get("bytes"), out);
            assertMillis(ok.get("ms"), out);
            assertEquals("127.0.0.1", ok.get("remote"), out);

            Map<String, String> notFound = textAccessLine(lines, MISSING_MANIFEST, out);
            assertEquals("GET", notFound.get("method"), out);
            assertEquals("404", notFound.get("status"), out);
            assertEquals(String.valueOf(missing.body().length), notFound.get("bytes"), out);
            assertMillis(notFound.get("ms"), out);
        }
    }

    /** The key/value pairs of the one INFO line for {@code path}; fails unless there is exactly one. */
    private static Map<String, String> textAccessLine(List<String> lines, String path, String out) {
        List<Map<String, String>> matching = new ArrayList<>();
        for (String line : lines) {
            Matcher m = TEXT_LINE.matcher(line);
            assertTrue(m.matches(), () -> "not a text log line: " + line + "\n" + out);
            Map<String, String> kv = new LinkedHashMap<>();
            Matcher p = KEY_VALUE.matcher(m.group(5));
            while (p.find()) {
                kv.put(p.group(1), p.group(2));
            }
            if (path.equals(kv.get("path"))) {
                assertEquals("INFO", m.group(2), () -> "level of " + line + "\n" + out);
                assertEquals("access", m.group(3), () -> "logger of " + line + "\n" + out);
                assertEquals("request", m.group(4), () -> "message of " + line + "\n" + out);
                assertEquals(ACCESS_KEYS, List.copyOf(kv.keySet()), () -> "keys of " + line + "\n" + out);
                matching.add(kv);
            }
        }
        assertEquals(1, matching.size(), () -> "request lines for " + path + ":\n" + out);
        return matching.get(0);
    }

    // ---------------------------------------------------------------- 2. request log (JSON)

    /**
     * logback's JsonEncoder writes one object per event: {@code level}, {@code loggerName},
     * {@code message}, and the key/value pairs as {@code "kvpList": [{"method":"GET"}, {"path":"/v2/"}, …]},
     * an array of one-entry objects whose values are strings (the status is {@code "200"}).
     */
    @Test
    @Timeout(90)
    void jsonFormatFromEnvironmentWritesOneJsonObjectPerLine(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("berth.log");
        try (BerthProcess berth = BerthProcess.start(dir.resolve("storage"), log, Map.of("BERTH_LOG_FORMAT", "json"))) {
            int before = settledLineCount(berth);
            RegistryClient client = berth.client();
            HttpResponse<byte[]> base = client.get("/v2/");
            expect(base, 200);
            HttpResponse<byte[]> missing = client.get(MISSING_MANIFEST);
            assertError(missing, 404, "MANIFEST_UNKNOWN");

            List<String> lines = awaitNewLines(berth, before, l -> l.contains("\"berth.access\""), 2);
            String out = berth.output();
            assertEquals(2, lines.size(), () -> "expected exactly one request line per request:\n" + out);

            // Every line the server printed is a JSON object, not only the request lines.
            for (String line : out.split("\n")) {
                if (!line.isBlank()) {
                    parseJson(line, out);
                }
            }
            JsonObject serving = out.lines().filter(l -> !l.isBlank()).map(l -> parseJson(l, out))
                    .filter(j -> "berth is serving".equals(j.getString("message"))).findFirst().orElse(null);
            assertNotNull(serving, () -> "no JSON 'berth is serving' line:\n" + out);
            assertEquals("INFO", serving.getString("level"), out);
            assertEquals("127.0.0.1:" + berth.port(), kvp(serving, out).get("listen"), out);

            Map<String, String> ok = jsonAccessLine(lines, "/v2/", out);
            assertEquals("GET", ok.get("method"), out);
            assertEquals("200", ok.get("status"), out);
            assertEquals(String.valueOf(base.body().length), ok.get("bytes"), out);
            assertMillis(ok.get("ms"), out);
            assertEquals("127.0.0.1", ok.get("remote"), out);

            Map<String, String> notFound = jsonAccessLine(lines, MISSING_MANIFEST, out);
            assertEquals("GET", notFound.get("method"), out);
            assertEquals("404", notFound.get("status"), out);
            assertEquals(String.valueOf(missing.body().length), notFound.get("bytes"), out);
            assertMillis(notFound.get("ms"), out);
        }
    }

    private static Map<String, String> jsonAccessLine(List<String> lines, String path, String out) {
        List<Map<String, String>> matching = new ArrayList<>();
        for (String line : lines) {
            JsonObject event = parseJson(line, out);
            Map<String, String> kv = kvp(event, out);
            if (path.equals(kv.get("path"))) {
                assertEquals("INFO", event.getString("level"), () -> "level of " + line + "\n" + out);
                assertEquals("berth.access", event.getString("loggerName"), () -> "logger of " + line + "\n" + out);
                assertEquals("request", event.getString("message"), () -> "message of " + line + "\n" + out);
                assertEquals(ACCESS_KEYS, List.copyOf(kv.keySet()), () -> "keys of " + line + "\n" + out);
                matching.add(kv);
            }
        }
        assertEquals(1, matching.size(), () -> "request lines for " + path + ":\n" + out);
        return matching.get(0);
    }

    private static JsonObject parseJson(String line, String out) {
        try {
            return new JsonObject(line);
        } catch (DecodeException | ClassCastException e) {
            throw new AssertionError("not a JSON object: " + line + "\n" + out, e);
        }
    }

    /** {@code kvpList} as an ordered map; every element must be a one-entry object with a string value. */
    private static Map<String, String> kvp(JsonObject event, String out) {
        JsonArray list = event.getJsonArray("kvpList");
        assertNotNull(list, () -> "no kvpList in " + event.encode() + "\n" + out);
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            JsonObject pair = list.getJsonObject(i);
            assertEquals(1, pair.size(), () -> "kvpList element " + pair.encode() + "\n" + out);
            String key = pair.fieldNames().iterator().next();
            assertTrue(pair.getValue(key) instanceof String, () -> "value of " + key + " is not a string: " + pair.encode());
            kv.put(key, pair.getString(key));
        }
        return kv;
    }

    private static void assertMillis(String ms, String out) {
        assertNotNull(ms, () -> "no ms key:\n" + out);
        assertTrue(ms.matches("\\d+") && Long.parseLong(ms) < 60_000, () -> "ms=" + ms + "\n" + out);
    }

    // ---------------------------------------------------------------- 3. configuration layers

    /**
     * Without flags, the file's http.listen, storage.root and registry.maxManifestSize are in effect;
     * the matching environment variables then override each of them.
     */
    @Test
    @Timeout(120)
    void configFileIsReadAndEnvironmentOverridesIt(@TempDir Path dir) throws Exception {
        int filePort = BerthProcess.freePort();
        int envPort = BerthProcess.freePort();
        Path fileRoot = dir.resolve("file-root");
        Path envRoot = dir.resolve("env-root");
        Path config = writeConfig(dir, filePort, fileRoot, "2KiB");

        // File only.
        Path log1 = dir.resolve("file.log");
        Process fileOnly = launch(dir, log1, Map.of(), "serve", "--config", config.toString());
        try {
            RegistryClient client = awaitServing(fileOnly, filePort, log1);
            awaitCondition(() -> readQuietly(log1).contains("berth is serving"), Duration.ofSeconds(10));
            String out = read(log1);
            assertTrue(out.contains("configuration loaded file=\"" + config + "\""), out);
            byte[] blob = randomBytes(3000);
            String digest = client.pushBlob("layers/file", blob);
            assertArrayEquals(blob, Files.readAllBytes(blobData(fileRoot, digest)), out);
            ManifestParts parts = pushManifestBlobs(client, "layers/file");
            assertError(client.put("/v2/layers/file/manifests/big", parts.manifest(3000), "Content-Type", OCI_MANIFEST),
                    413, "SIZE_INVALID");
            expect(client.put("/v2/layers/file/manifests/small", parts.manifest(1500), "Content-Type", OCI_MANIFEST), 201);
        } finally {
            stop(fileOnly);
        }

        // Environment over file.
        Path log2 = dir.resolve("env.log");
        Process withEnv = launch(dir, log2, Map.of(
                "BERTH_HTTP_LISTEN", "127.0.0.1:" + envPort,
                "BERTH_STORAGE_ROOT", envRoot.toString(),
                "BERTH_REGISTRY_MAX_MANIFEST_SIZE", "4KiB"), "serve", "--config", config.toString());
        try {
            RegistryClient client = awaitServing(withEnv, envPort, log2);
            String out = read(log2);
            assertFalse(answers(filePort), () -> "the file's http.listen is in effect despite BERTH_HTTP_LISTEN:\n" + out);
            byte[] blob = randomBytes(3000);
            String digest = client.pushBlob("layers/env", blob);
            assertArrayEquals(blob, Files.readAllBytes(blobData(envRoot, digest)), out);
            assertFalse(Files.exists(blobData(fileRoot, digest)), out);
            ManifestParts parts = pushManifestBlobs(client, "layers/env");
            expect(client.put("/v2/layers/env/manifests/big", parts.manifest(3000), "Content-Type", OCI_MANIFEST), 201);
            assertError(client.put("/v2/layers/env/manifests/huge", parts.manifest(5000), "Content-Type", OCI_MANIFEST),
                    413, "SIZE_INVALID");
        } finally {
            stop(withEnv);
        }
    }

    /**
     * --listen and --storage win over both the environment and the file; keys without a flag
     * (registry.maxManifestSize) still come from the environment.
     */
    @Test
    @Timeout(120)
    void flagsOverrideEnvironmentAndFile(@TempDir Path dir) throws Exception {
        int filePort = BerthProcess.freePort();
        int envPort = BerthProcess.freePort();
        Path fileRoot = dir.resolve("file-root");
        Path envRoot = dir.resolve("env-root");
        Path flagRoot = dir.resolve("flag-root");
        Path config = writeConfig(dir, filePort, fileRoot, "2KiB");
        Path log = dir.resolve("berth.log");
        try (BerthProcess berth = BerthProcess.start(flagRoot, log, Map.of(
                "BERTH_HTTP_LISTEN", "127.0.0.1:" + envPort,
                "BERTH_STORAGE_ROOT", envRoot.toString(),
                "BERTH_REGISTRY_MAX_MANIFEST_SIZE", "4KiB"), "--config", config.toString())) {
            // BerthProcess.start returned, so --listen's port answers.
            awaitCondition(() -> outputOf(berth).contains("berth is serving"), Duration.ofSeconds(10));
            String out = berth.output();
            assertFalse(answers(envPort), () -> "BERTH_HTTP_LISTEN is in effect despite --listen:\n" + out);
            assertFalse(answers(filePort), () -> "the file's http.listen is in effect despite --listen:\n" + out);
            assertTrue(out.contains("listen=\"127.0.0.1:" + berth.port() + "\""), out);

            RegistryClient client = berth.client();
            byte[] blob = randomBytes(5000);
            String digest = client.pushBlob("layers/flag", blob);
            Path data = blobData(flagRoot, digest);
            assertTrue(Files.isRegularFile(data), () -> data + " missing; files under " + flagRoot + ": "
                    + listFiles(flagRoot) + "\n" + out);
            assertArrayEquals(blob, Files.readAllBytes(data));
            assertFalse(Files.exists(envRoot.resolve("registry")), () -> "BERTH_STORAGE_ROOT used despite --storage\n" + out);
            assertFalse(Files.exists(fileRoot.resolve("registry")), () -> "file storage.root used despite --storage\n" + out);

            ManifestParts parts = pushManifestBlobs(client, "layers/flag");
            expect(client.put("/v2/layers/flag/manifests/big", parts.manifest(3000), "Content-Type", OCI_MANIFEST), 201);
            assertError(client.put("/v2/layers/flag/manifests/huge", parts.manifest(5000), "Content-Type", OCI_MANIFEST),
                    413, "SIZE_INVALID");
        }
    }

    private static Path writeConfig(Path dir, int port, Path root, String maxManifestSize) throws IOException {
        Path config = dir.resolve("berth.yaml");
        Files.writeString(config, String.join("\n",
                "http:",
                "  listen: \"127.0.0.1:" + port + "\"",
                "  shutdownTimeout: 5s",
                "storage:",
                "  root: \"" + root + "\"",
                "  filesystem:",
                "    fsync: false",
                "registry:",
                "  maxManifestSize: " + maxManifestSize,
                ""));
        return config;
    }

    private static Path blobData(Path root, String digest) {
        String hex = digest.substring("sha256:".length());
        return root.resolve("registry/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    }

    /** The blobs a manifest references, pushed; {@link #manifest} pads the manifest to an exact size. */
    private record ManifestParts(String configDigest, int configSize, String layerDigest, int layerSize) {
        byte[] manifest(int size) {
            JsonObject m = new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                    .put("config", descriptor(OCI_CONFIG, configDigest, configSize))
                    .put("layers", new JsonArray().add(descriptor(OCI_LAYER, layerDigest, layerSize)))
                    .put("annotations", new JsonObject().put("padding", ""));
            int base = m.encode().getBytes(StandardCharsets.UTF_8).length;
            m.getJsonObject("annotations").put("padding", "x".repeat(size - base));
            byte[] bytes = m.encode().getBytes(StandardCharsets.UTF_8);
            assertEquals(size, bytes.length);
            return bytes;
        }
    }

    private static ManifestParts pushManifestBlobs(RegistryClient client, String repo) {
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        byte[] layer = randomBytes(1000);
        return new ManifestParts(client.pushBlob(repo, config), config.length, client.pushBlob(repo, layer), layer.length);
    }

    // ---------------------------------------------------------------- 4. bad configuration

    @Test
    @Timeout(60)
    void unknownKeyInConfigFileExitsWithStatus2NamingTheKey(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("unknown.yaml");
        Files.writeString(config, "registry:\n  maxManifestSze: 1KiB\n");
        Run run = runBerth(dir, Map.of(), "serve", "--config", config.toString(),
                "--listen", "127.0.0.1:0", "--storage", dir.resolve("storage").toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("registry.maxManifestSze"), run.output());
        assertTrue(run.output().contains("unknown key"), run.output());
        assertFalse(run.output().contains("berth is serving"), run.output());
    }

    @Test
    @Timeout(60)
    void badDurationInConfigFileExitsWithStatus2NamingTheKey(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("duration.yaml");
        Files.writeString(config, "http:\n  shutdownTimeout: 10 seconds\n");
        Run run = runBerth(dir, Map.of(), "serve", "--config", config.toString(),
                "--listen", "127.0.0.1:0", "--storage", dir.resolve("storage").toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("http.shutdownTimeout"), run.output());
        assertTrue(run.output().contains("10 seconds"), run.output());
        assertFalse(run.output().contains("berth is serving"), run.output());
    }

    @Test
    @Timeout(60)
    void missingNamedConfigFileExitsWithStatus2(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("no-such-file.yaml");
        Run run = runBerth(dir, Map.of(), "serve", "--config", config.toString(),
                "--listen", "127.0.0.1:0", "--storage", dir.resolve("storage").toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("not found"), run.output());
        assertTrue(run.output().contains("no-such-file.yaml"), run.output());
        assertFalse(run.output().contains("berth is serving"), run.output());
    }

    // ---------------------------------------------------------------- 5. graceful shutdown

    /**
     * SIGTERM while a chunked PATCH is half sent: the request still completes (202, Range over all
     * bytes, bytes really stored), new connections are refused meanwhile, and the JVM exits after
     * its shutdown hook. The JVM's own SIGTERM handler (java.lang.Terminator) exits with
     * 128 + 15 = 143 once the hooks have run, and Berth does not override it.
     */
    @Test
    @Timeout(180)
    void sigtermLetsInFlightChunkedPatchFinishAndRefusesNewConnections(@TempDir Path dir) throws Exception {
        Path storage = dir.resolve("storage");
        Path log = dir.resolve("berth.log");
        String repo = "shutdown/test";
        byte[] content = randomBytes(4 * 65536 + 123);
        int[] cuts = {0, 65536, 2 * 65536, 3 * 65536, content.length};
        String location;
        long sigtermAt;
        CompletableFuture<Integer> exit;
        String newConnection;
        boolean aliveWhileRefusing;
        Response patched;
        try (BerthProcess berth = BerthProcess.start(storage, log, Map.of("BERTH_HTTP_SHUTDOWN_TIMEOUT", "10s"))) {
            HttpResponse<byte[]> started = berth.client().post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
            expect(started, 202);
            location = header(started, "Location");
            assertNotNull(location, berth.output());

            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", berth.port()), 5000);
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                out.write(("PATCH " + location + " HTTP/1.1\r\n"
                        + "Host: 127.0.0.1:" + berth.port() + "\r\n"
                        + "Content-Type: application/octet-stream\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                writeChunk(out, content, cuts[0], cuts[1]);
                out.flush();
                Thread.sleep(500); // the server has the request and is streaming it into the session

                assertTrue(berth.process().isAlive(), berth.output());
                sigtermAt = System.nanoTime();
                exit = CompletableFuture.supplyAsync(() -> {
                    try {
                        return berth.terminate(Duration.ofSeconds(60));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return -2;
                    }
                });
                awaitCondition(() -> outputOf(berth).contains("shutting down"), Duration.ofSeconds(10));
                Thread.sleep(300);
                newConnection = tryNewConnection(berth.port());
                aliveWhileRefusing = berth.process().isAlive();

                for (int i = 1; i < cuts.length - 1; i++) {
                    writeChunk(out, content, cuts[i], cuts[i + 1]);
                    out.flush();
                    Thread.sleep(50);
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                patched = readResponse(socket.getInputStream());
            }

            int code = exit.get(90, TimeUnit.SECONDS);
            long exitMillis = (System.nanoTime() - sigtermAt) / 1_000_000;
            // Everything observed, in every message, so one failure shows the whole picture.
            String out = "PATCH response: " + patched + "; new connection after SIGTERM: "
                    + (newConnection == null ? "failed" : newConnection) + "; alive then: " + aliveWhileRefusing
                    + "; exit status " + code + " after " + exitMillis + " ms\n" + berth.output();
            assertNotNull(patched, () -> "no response to the in-flight PATCH:\n" + out);
            assertEquals(202, patched.status(), () -> "in-flight PATCH: " + patched + "\n" + out);
            assertEquals("0-" + (content.length - 1), patched.headers().get("range"),
                    () -> "in-flight PATCH: " + patched + "\n" + out);
            assertTrue(aliveWhileRefusing, () -> "berth was gone before the PATCH finished:\n" + out);
            assertNull(newConnection, () -> "a new connection after SIGTERM was served: " + newConnection + "\n" + out);
            assertEquals(143, code, () -> "exit status after SIGTERM (-1: still running after 60s):\n" + out);
            assertTrue(exitMillis < 10_000, () -> "exit took " + exitMillis + " ms, more than http.shutdownTimeout:\n" + out);
            assertTrue(out.contains("shutting down"), out);
            assertTrue(out.contains("berth stopped"), out);
        }

        // Every byte of the PATCH was stored: a restarted server continues and completes the session.
        try (BerthProcess again = BerthProcess.start(storage, dir.resolve("again.log"), Map.of())) {
            RegistryClient client = again.client();
            HttpResponse<byte[]> status = client.get(location);
            assertEquals(204, status.statusCode(), () -> new String(status.body(), StandardCharsets.UTF_8) + "\n" + outputOf(again));
            assertEquals("0-" + (content.length - 1), header(status, "Range"), outputOf(again));
            String digest = sha256(content);
            expect(client.put(withQuery(location, "digest=" + digest), new byte[0]), 201);
            assertArrayEquals(content, client.get("/v2/" + repo + "/blobs/" + digest).body());
        }
    }

    private static void writeChunk(OutputStream out, byte[] content, int from, int to) throws IOException {
        out.write((Integer.toHexString(to - from) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(content, from, to - from);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** A GET /v2/ on a fresh connection: null if it could not connect or got no response, else the status line. */
    private static String tryNewConnection(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(3000);
            s.getOutputStream().write(("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return readLine(s.getInputStream());
        } catch (IOException e) {
            return null;
        }
    }

    private record Response(int status, Map<String, String> headers) {
    }

    /** Status line and headers (names lower-cased); the registry's PATCH answer has no body. */
    private static Response readResponse(InputStream in) throws IOException {
        String statusLine = readLine(in);
        if (statusLine == null) {
            return null;
        }
        String[] parts = statusLine.split(" ", 3);
        Map<String, String> headers = new TreeMap<>();
        for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        return new Response(Integer.parseInt(parts[1]), headers);
    }

    /** One CRLF-terminated line, or null at end of stream before any byte. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- 6. help and version

    @Test
    @Timeout(60)
    void versionAndHelp(@TempDir Path dir) throws Exception {
        Run version = runBerth(dir, Map.of(), "--version");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().strip().matches("berth \\S.*"), version.output());

        Run help = runBerth(dir, Map.of(), "--help");
        assertEquals(0, help.exitCode(), help.output());
        assertTrue(help.output().contains("Usage: berth"), help.output());
        assertTrue(help.output().matches("(?s).*\\n\\s+serve\\s+Run the registry server.*"), help.output());
        assertTrue(help.output().contains("--version"), help.output());

        Run serveHelp = runBerth(dir, Map.of(), "serve", "--help");
        assertEquals(0, serveHelp.exitCode(), serveHelp.output());
        assertTrue(serveHelp.output().contains("Usage: berth serve"), serveHelp.output());
        for (String option : List.of("--config=FILE", "--listen=HOST:PORT", "--storage=DIR")) {
            assertTrue(serveHelp.output().contains(option), () -> option + " missing:\n" + serveHelp.output());
        }
        assertFalse(serveHelp.output().contains("berth is serving"), serveHelp.output());
    }

    // ---------------------------------------------------------------- processes and output

    private record Run(int exitCode, String output) {
    }

    /** {@code berth ARGS…} in its own JVM like BerthProcess does, in {@code workDir}, output (both streams) to {@code log}. */
    private static Process launch(Path workDir, Path log, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.berth.app.Main"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // Only the variables the test sets: a BERTH_* in the developer's environment must not leak in.
        pb.environment().keySet().removeIf(k -> k.startsWith("BERTH_"));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs {@code berth ARGS…} to completion (at most 30 s) and returns its exit status and output. */
    private static Run runBerth(Path dir, Map<String, String> env, String... args) throws Exception {
        Path log = Files.createTempFile(dir, "berth", ".log");
        Process p = launch(dir, log, env, args);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("berth " + String.join(" ", args) + " did not exit within 30 s:\n" + read(log));
        }
        return new Run(p.exitValue(), read(log));
    }

    /** Waits until {@code port} answers GET /v2/ with 200; fails if the process exits first. */
    private static RegistryClient awaitServing(Process p, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                fail("berth exited with " + p.exitValue() + " before serving on " + port + ":\n" + read(log));
            }
            if (answers(port)) {
                return new RegistryClient("http://127.0.0.1:" + port);
            }
            Thread.sleep(100);
        }
        fail("berth did not answer on " + port + " within 30 s:\n" + read(log));
        return null;
    }

    /** Whether a fresh client gets 200 from GET /v2/ on {@code port}. */
    private static boolean answers(int port) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private static String readQuietly(Path log) {
        try {
            return read(log);
        } catch (IOException e) {
            return "";
        }
    }

    private static String outputOf(BerthProcess p) {
        try {
            return p.output();
        } catch (IOException e) {
            return "(cannot read output: " + e + ")";
        }
    }

    private static String listFiles(Path root) {
        if (!Files.exists(root)) {
            return "(none)";
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(root::relativize).map(Path::toString).toList().toString();
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    /**
     * The number of output lines once the readiness probe's own request lines have been written
     * (the log is asynchronous): waits until the count stays the same for half a second.
     */
    private static int settledLineCount(BerthProcess p) throws Exception {
        int count = lineCount(outputOf(p));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            Thread.sleep(500);
            int now = lineCount(outputOf(p));
            if (now == count) {
                return count;
            }
            count = now;
        }
        return count;
    }

    private static int lineCount(String output) {
        return (int) output.lines().count();
    }

    /**
     * The lines after the first {@code skip} that satisfy {@code filter}, once at least {@code expected}
     * of them are there (at most 10 s) and another half second has passed for any extra ones.
     */
    private static List<String> awaitNewLines(BerthProcess p, int skip, Predicate<String> filter,
                                              int expected) throws Exception {
        awaitCondition(() -> outputOf(p).lines().skip(skip).filter(filter).count() >= expected, Duration.ofSeconds(10));
        Thread.sleep(500);
        return outputOf(p).lines().skip(skip).filter(filter).toList();
    }

    private static void awaitCondition(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
            Thread.sleep(50);
        }
    }
}
