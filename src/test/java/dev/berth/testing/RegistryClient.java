package dev.berth.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A plain HTTP client for registry tests (java.net.http, no registry logic of Berth's own), with
 * shortcuts for the usual push steps.
 */
public final class RegistryClient {
    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    public RegistryClient(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** A request builder for a path ({@code /v2/...}) or an absolute URL. */
    public HttpRequest.Builder request(String pathOrUrl) {
        String url = pathOrUrl.startsWith("http") ? pathOrUrl : baseUrl + pathOrUrl;
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    }

    public HttpResponse<byte[]> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<byte[]> get(String path, String... headers) {
        HttpRequest.Builder b = request(path).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    public HttpResponse<byte[]> head(String path, String... headers) {
        HttpRequest.Builder b = request(path).method("HEAD", HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    public HttpResponse<byte[]> delete(String path) {
        return send(request(path).DELETE().build());
    }

    public HttpResponse<byte[]> post(String path, byte[] body, String... headers) {
        HttpRequest.Builder b = request(path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    public HttpResponse<byte[]> put(String path, byte[] body, String... headers) {
        HttpRequest.Builder b = request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    public HttpResponse<byte[]> patch(String path, byte[] body, String... headers) {
        HttpRequest.Builder b = request(path).method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.build());
    }

    /** Pushes a blob with POST + PUT and returns its digest; fails unless the registry says 201. */
    public String pushBlob(String repo, byte[] content) {
        HttpResponse<byte[]> start = post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
        expect(start, 202);
        String location = start.headers().firstValue("Location").orElseThrow();
        String digest = sha256(content);
        HttpResponse<byte[]> done = put(withQuery(location, "digest=" + digest), content,
                "Content-Type", "application/octet-stream");
        expect(done, 201);
        return digest;
    }

    /** PUTs a manifest and returns the digest the registry reports. */
    public String pushManifest(String repo, String reference, String mediaType, byte[] manifest) {
        HttpResponse<byte[]> r = put("/v2/" + repo + "/manifests/" + reference, manifest, "Content-Type", mediaType);
        expect(r, 201);
        return r.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    public static String withQuery(String location, String query) {
        return location + (location.contains("?") ? "&" : "?") + query;
    }

    public static void expect(HttpResponse<byte[]> r, int status) {
        if (r.statusCode() != status) {
            throw new AssertionError("expected " + status + " from " + r.request().method() + " " + r.uri()
                    + " but got " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
        }
    }

    public static String sha256(byte[] content) {
        return "sha256:" + hex("SHA-256", content);
    }

    public static String sha512(byte[] content) {
        return "sha512:" + hex("SHA-512", content);
    }

    private static String hex(String algorithm, byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
