package dev.berth.app;

import static dev.berth.testing.Fixtures.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Abuse limits per client: the request rate (429 TOOMANYREQUESTS with Retry-After, in the registry's
 * format under /v2/ and the API's under /api/), uploads sending bodies at once, and the header size.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClientLimitsTest {
    @TempDir
    Path tmp;

    @Test
    void aClientOverItsRequestRateGets429WithRetryAfterUntilTheBucketRefills() throws Exception {
        // A bucket of 5 refilled at one request every 2 s: the 6th request in a row is refused.
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("s"), Map.of("limits.requestsPerSecond", "0.5",
                "limits.burst", "5"))) {
            RegistryClient c = berth.client();
            for (int i = 0; i < 5; i++) {
                assertEquals(200, c.get("/v2/").statusCode(), "request " + i);
            }
            HttpResponse<byte[]> refused = c.get("/v2/");
            assertError(refused, 429, "TOOMANYREQUESTS");
            long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
            HttpResponse<byte[]> api = c.get("/api/webhooks");
            assertEquals(429, api.statusCode());
            assertEquals("ThrottlingException", new JsonObject(new String(api.body(), StandardCharsets.UTF_8))
                    .getJsonObject("error").getString("code"));
            assertTrue(api.headers().firstValue("Retry-After").isPresent());
            Thread.sleep(retryAfter * 1000 + 200);
            assertEquals(200, c.get("/v2/").statusCode());
        }
    }

    @Test
    void aClientMayHaveOnlySoManyUploadsSendingAtOnce() throws Exception {
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("s"), Map.of("limits.concurrentUploads", "1"))) {
            RegistryClient c = berth.client();
            String first = location(c.post("/v2/team/a/blobs/uploads/", new byte[0]), berth);
            String second = location(c.post("/v2/team/b/blobs/uploads/", new byte[0]), berth);
            // The first upload's body arrives slowly: the request stays open (a raw socket, so that
            // the headers and the first bytes are surely sent).
            byte[] part = "0123456789".repeat(100).getBytes(StandardCharsets.UTF_8);
            URI firstUri = URI.create(first);
            Socket slow = new Socket("127.0.0.1", berth.port());
            OutputStream out = slow.getOutputStream();
            out.write(("PATCH " + firstUri.getRawPath() + " HTTP/1.1\r\nHost: " + berth.hostPort()
                    + "\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write((Integer.toHexString(part.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300);
            HttpResponse<byte[]> refused = c.patch(second, "x".getBytes(StandardCharsets.UTF_8),
                    "Content-Type", "application/octet-stream");
            assertError(refused, 429, "TOOMANYREQUESTS");
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            // Downloads and status requests are not uploads.
            assertEquals(204, c.get(second).statusCode());
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            slow.setSoTimeout(30_000);
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(slow.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            assertTrue(status.startsWith("HTTP/1.1 202"), status);
            slow.close();
            // Once the first is done, the second may send; both complete.
            assertEquals(202, c.patch(second, part, "Content-Type", "application/octet-stream").statusCode());
            String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(part));
            assertEquals(201, c.put(RegistryClient.withQuery(first, "digest=" + digest), new byte[0]).statusCode());
            assertEquals(201, c.put(RegistryClient.withQuery(second, "digest=" + digest), new byte[0]).statusCode());
        }
    }

    @Test
    void anUploadsPlaceIsFreeOnceItsAnswerIsSeen() throws Exception {
        // Two connections (likely on different event loops) take turns: each starts its upload
        // only after the other's answer arrived, so none may be refused. The place used to be
        // freed after the answer was flushed, which a quick client could overtake.
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("s"), Map.of("limits.concurrentUploads", "1"))) {
            RegistryClient a = berth.client();
            RegistryClient b = berth.client();
            String first = location(a.post("/v2/team/a/blobs/uploads/", new byte[0]), berth);
            String second = location(b.post("/v2/team/b/blobs/uploads/", new byte[0]), berth);
            byte[] part = new byte[1];
            for (int i = 0; i < 300; i++) {
                HttpResponse<byte[]> one = a.patch(first, part, "Content-Type", "application/octet-stream");
                assertEquals(202, one.statusCode(), "round " + i + " first");
                first = location(one, berth);
                HttpResponse<byte[]> two = b.patch(second, part, "Content-Type", "application/octet-stream");
                assertEquals(202, two.statusCode(), "round " + i + " second");
                second = location(two, berth);
            }
        }
    }

    /** Sends {@code head} then a header line every 300 ms until the server closes; answers the seconds that took. */
    private static double trickle(Socket socket, String head) throws Exception {
        long start = System.nanoTime();
        OutputStream out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        for (int i = 0; i < 40; i++) {
            Thread.sleep(300);
            try {
                out.write(("X-Slow-" + i + ": 1\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                return (System.nanoTime() - start) / 1e9;
            }
        }
        throw new AssertionError("still open after 12 s of trickling");
    }

    /** Reads one response (status line, headers, Content-Length body); answers the status line. */
    private static String readResponse(java.io.InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        in.readNBytes(length);
        return head.substring(0, head.indexOf("\r\n"));
    }

    @Test
    void slowClientsTricklingHeadersAreCutOffPromptOnesAreNot() throws Exception {
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("s"), Map.of("limits.headerTimeout", "1s",
                "http.idleTimeout", "3s"))) {
            String get = "GET /v2/ HTTP/1.1\r\nHost: " + berth.hostPort() + "\r\n";
            // A first request whose headers trickle in: closed after the header timeout (the bytes keep
            // the idle timeout from ever firing).
            try (Socket slow = new Socket("127.0.0.1", berth.port())) {
                double s = trickle(slow, get);
                assertTrue(s >= 0.9 && s < 2.9, "closed after " + s + " s");
            }
            try (Socket prompt = new Socket("127.0.0.1", berth.port())) {
                prompt.setSoTimeout(10_000);
                // Prompt requests on a kept-alive connection, with a pause longer than the header timeout
                // between them: both answered.
                for (int i = 0; i < 2; i++) {
                    prompt.getOutputStream().write((get + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    prompt.getOutputStream().flush();
                    assertEquals("HTTP/1.1 200 OK", readResponse(prompt.getInputStream()));
                    Thread.sleep(1500);
                }
                // The next request trickles: the idle timeout (it counts whole requests) cuts it off.
                double s = trickle(prompt, get);
                assertTrue(s >= 1.2 && s < 6, "closed after " + s + " s");
            }
            // Plain connections are HTTP/1.1 only now (no h2c upgrade), and still work.
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(berth.baseUrl() + "/v2/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(HttpClient.Version.HTTP_1_1, r.version());
        }
    }

    private static String location(HttpResponse<byte[]> r, TestRegistry berth) {
        assertEquals(202, r.statusCode());
        String loc = r.headers().firstValue("Location").orElseThrow();
        return loc.startsWith("http") ? loc : berth.baseUrl() + loc;
    }

    @Test
    void headersOverTheLimitAreRefusedAndTheServerCarriesOn() throws Exception {
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("s"), Map.of("limits.maxHeaderSize", "2KiB"))) {
            // A client asking for HTTP/1.1, and one preferring HTTP/2 (it falls back to HTTP/1.1: plain
            // connections are not upgraded to h2c while limits.headerTimeout is on).
            for (HttpClient.Version version : HttpClient.Version.values()) {
                HttpClient http = HttpClient.newBuilder().version(version).build();
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(berth.baseUrl() + "/v2/"))
                        .header("X-Padding", "p".repeat(1024)).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
                try {
                    HttpResponse<String> big = http.send(HttpRequest.newBuilder(URI.create(berth.baseUrl() + "/v2/"))
                            .header("X-Padding", "p".repeat(4096)).build(), HttpResponse.BodyHandlers.ofString());
                    assertTrue(big.statusCode() == 431 || big.statusCode() == 400, version + ": status " + big.statusCode());
                } catch (IOException e) {
                    // HTTP/2 refuses an oversized header block by resetting the stream.
                    assertEquals(HttpClient.Version.HTTP_2, version, "HTTP/1.1 must answer: " + e);
                }
                assertEquals(200, berth.client().get("/v2/").statusCode());
            }
        }
    }
}
