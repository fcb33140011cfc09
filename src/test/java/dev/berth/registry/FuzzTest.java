package dev.berth.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few thousand malformed requests, from a fixed seed: bad names, tags and digests, bad ranges and
 * content ranges, random headers, random and truncated JSON, bodies cut short, garbage request lines.
 * Every answer is a 4xx (the server never fails with 5xx or hangs; a request it cannot even parse
 * may get its connection closed), the server stays up, and what was stored before (blobs,
 * manifests, tags) is unchanged and still pulls byte-exact.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FuzzTest {
    private static final long SEED = 20261121L;
    private static final int REQUESTS = 3000;
    private static final String[] METHODS = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"};

    @TempDir
    Path tmp;

    private final Random random = new Random(SEED);

    private String pick(String... options) {
        return options[random.nextInt(options.length)];
    }

    private String junk(int max) {
        String alphabet = "abcXYZ019._-/:@%?&=#~!$*+,;'\"\\ ..";
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(max + 1);
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /**
     * A repository name the grammar refuses. (Not "a//b", "a/b/" or "a/../b": the router normalises those to
     * valid names before anything sees them.)
     */
    private String badName() {
        return pick("UPPER/case", "../etc", "-lead", "trail-", "a" + "b".repeat(300), "x/_uploads",
                "a/.b", "a..b", "%2e%2e/x", "name:tag", "X" + junk(20).replaceAll("[?#/]", ""),
                "team/app/X" + junk(5).replaceAll("[?#/]", ""));
    }

    private String badDigest() {
        return pick("sha256:" + "g".repeat(64), "sha256:" + "a".repeat(63), "sha256:" + "A".repeat(64), "md5:abc",
                "sha512:" + "a".repeat(64), "sha256:", ":" + "a".repeat(64), "sha256" + "a".repeat(64), junk(70),
                "sha256:" + "0".repeat(64));
    }

    private String badReference() {
        return pick(badDigest(), "-tag", "." + junk(5), "t".repeat(200), "tag with space", "", "uploads", junk(10));
    }

    private String path() {
        String name = badName();
        return switch (random.nextInt(10)) {
            case 8 -> "/v2/team/app/manifests/fuzz"; // a valid tag: only the (broken) bodies are wrong
            case 0 -> "/v2/" + name + "/manifests/" + badReference();
            case 1 -> "/v2/" + name + "/blobs/" + badDigest();
            case 2 -> "/v2/" + name + "/blobs/uploads/" + pick("", junk(36), "00000000-0000-0000-0000-000000000000");
            case 3 -> "/v2/" + name + "/tags/list?n=" + pick("-1", "abc", "99999999999999999999", "0") + "&last=" + junk(5);
            case 4 -> "/v2/_catalog?n=" + pick("-5", "x", "1e9", "") + "&last=" + junk(8);
            case 5 -> "/v2/" + name + "/referrers/" + badDigest() + "?artifactType=" + junk(10);
            case 6 -> "/v2/team/app/blobs/uploads/?digest=" + badDigest() + "&mount=" + badDigest() + "&from=" + badName();
            case 7 -> "/v2/team/app/blobs/uploads/?digest=" + badDigest();
            default -> random.nextBoolean() ? "/v2/team/app/manifests/" + badReference() : "/" + junk(30);
        };
    }

    private byte[] body() {
        return switch (random.nextInt(6)) {
            case 0 -> new byte[0];
            case 1 -> "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
                    .getBytes(StandardCharsets.UTF_8); // truncated JSON
            case 2 -> ("{\"schemaVersion\":" + pick("1", "3", "\"2\"", "null") + ",\"layers\":[{\"digest\":\"" + badDigest()
                    + "\",\"size\":" + pick("-1", "1e99", "\"x\"") + "}]}").getBytes(StandardCharsets.UTF_8);
            case 3 -> junk(200).getBytes(StandardCharsets.UTF_8);
            case 4 -> {
                byte[] b = new byte[random.nextInt(5000)];
                random.nextBytes(b);
                yield b;
            }
            default -> "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(100).getBytes(StandardCharsets.UTF_8);
        };
    }

    /** A header that is wrong for any request it is put on. */
    private String[] header() {
        return switch (random.nextInt(7)) {
            case 0 -> new String[] {"Range", pick("bytes=", "bytes=5-2", "bytes=-", "bytes=0-1,3-4", "items=0-1",
                    "bytes=99999999999999999999-", "bytes=a-b")};
            case 1 -> new String[] {"Content-Range", pick("5-2", "0-", "-1", "bytes 0-1/2", "99999999999999999999-1", "x")};
            case 2 -> new String[] {"Content-Type", pick("", "application/vnd.oci.image.index.v1+json", "text/plain",
                    "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", junk(20))};
            case 3 -> new String[] {"Accept", junk(50)};
            case 4 -> new String[] {"X-" + junk(5).replaceAll("[^a-zA-Z0-9]", "a") + "z", junk(100).replaceAll("[\\r\\n]", "")};
            case 5 -> new String[] {"Authorization", pick("Bearer ", "Basic !!!", "Bearer a.b.c", junk(30))};
            default -> new String[] {"If-None-Match", junk(20)};
        };
    }

    /** Every regular file under the registry tree except upload sessions, with its SHA-256. */
    private static Map<String, String> snapshot(Path storage) throws Exception {
        Map<String, String> files = new TreeMap<>();
        Path root = storage.resolve("registry");
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                String rel = root.relativize(p).toString();
                if (rel.contains("/_uploads/")) {
                    continue;
                }
                files.put(rel, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return files;
    }

    @Test
    void thousandsOfMalformedRequestsGetOnly4xxAndChangeNothingStored() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = TestRegistry.start(storage)) {
            RegistryClient c = berth.client();
            Fixtures.Image image = Fixtures.pushImage(c, "team/app", "v1", 3, false, "amd64");
            Map<String, String> before = snapshot(storage);

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            Map<Integer, Integer> statuses = new TreeMap<>();
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                String method = METHODS[random.nextInt(METHODS.length)];
                String path = path();
                int status;
                if (random.nextInt(10) == 0) {
                    status = raw(berth.port(), method, path);
                } else {
                    URI uri;
                    try {
                        uri = URI.create(berth.baseUrl() + path.replace(" ", "%20").replace("\"", "%22")
                                .replace("\\", "%5C").replace("'", "%27").replace("%2e", "%2e"));
                    } catch (IllegalArgumentException e) {
                        continue; // not even a URI: the raw socket sends those
                    }
                    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
                    for (int h = random.nextInt(3); h > 0; h--) {
                        String[] header = header();
                        try {
                            b.header(header[0], header[1]);
                        } catch (IllegalArgumentException e) {
                            // a header the client will not send
                        }
                    }
                    byte[] body = method.equals("GET") || method.equals("HEAD") || method.equals("DELETE") ? new byte[0] : body();
                    b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
                    status = http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                }
                statuses.merge(status, 1, Integer::sum);
                // The one success a malformed request may get: the spec has a POST whose mount
                // arguments are unusable fall back to an ordinary upload session (202).
                boolean mountFallback = status == 202 && method.equals("POST") && path.contains("&mount=");
                if (status != -1 && (status < 400 || status >= 500) && !mountFallback) {
                    bad.add(status + " for " + method + " " + path);
                }
            }
            System.out.println("fuzz statuses: " + statuses);
            assertTrue(bad.isEmpty(), bad.size() + " answers that are not 4xx, e.g. " + bad.subList(0, Math.min(10, bad.size())));

            // Still up, nothing stored changed, and the image pulls byte-exact.
            assertEquals(200, c.get("/v2/").statusCode());
            assertEquals(before, snapshot(storage));
            HttpResponse<byte[]> m = c.get("/v2/team/app/manifests/v1", "Accept", image.mediaType());
            assertArrayEquals(image.manifest(), m.body());
            for (String layer : image.layerDigests()) {
                assertEquals(layer, RegistryClient.sha256(c.get("/v2/team/app/blobs/" + layer).body()));
            }
        }
    }

    /**
     * A request over a raw socket: a garbage request line, a body shorter than its Content-Length
     * (then the connection is closed), or a chunked body cut off. Returns the status, or -1 when the
     * server (rightly) closed without answering a request it could not read.
     */
    private int raw(int port, String method, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            String request = switch (random.nextInt(4)) {
                case 0 -> method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + junk(50);
                case 1 -> method + " " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + junk(20);
                case 2 -> junk(40) + "\r\n\r\n";
                default -> method + " " + path + " HTTP/9.9\r\nHost: x\r\n\r\n";
            };
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            byte[] head = in.readNBytes(12);
            String line = new String(head, StandardCharsets.ISO_8859_1);
            if (!line.startsWith("HTTP/")) {
                return -1;
            }
            int status = Integer.parseInt(line.substring(9, 12));
            // An unknown HTTP version is the HTTP layer's to refuse, before Berth sees a request.
            return request.contains(" HTTP/9.9\r\n") && status == 501 ? -1 : status;
        } catch (java.net.SocketException e) {
            return -1; // reset: the server dropped a request it could not read
        }
    }
}
