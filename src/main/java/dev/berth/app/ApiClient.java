package dev.berth.app;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The CLI's view of a Berth server's /api/: JSON in, JSON out, errors as readable messages. */
final class ApiClient {
    /** A request the server refused or could not be reached; the message is for the user. */
    static final class ApiError extends Exception {
        ApiError(String message) {
            super(message);
        }
    }

    private final String server;
    private final HttpClient http;
    private final String authorization;

    ApiClient(String server) throws ApiError {
        this(server, null);
    }

    /** @param caFile PEM certificates to trust for an https server instead of the system's; null or empty: the system's */
    ApiClient(String server, String caFile) throws ApiError {
        this(server, caFile, null);
    }

    /** @param authorization the Authorization header sent with every request, or null */
    ApiClient(String server, String caFile, String authorization) throws ApiError {
        this.authorization = authorization;
        this.server = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (caFile != null && !caFile.isEmpty()) {
            try {
                b.sslContext(dev.berth.auth.Pem.trusting(java.nio.file.Path.of(caFile)));
            } catch (IOException e) {
                throw new ApiError("--ca-file: " + e.getMessage());
            }
        }
        this.http = b.build();
    }

    JsonObject get(String pathAndQuery) throws ApiError {
        return send(builder(pathAndQuery).GET());
    }

    JsonObject post(String path) throws ApiError {
        return send(builder(path).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** Copies a streamed text answer (logs) to {@code out} as it arrives; an error answer becomes an ApiError. */
    void stream(String path, java.io.PrintStream out) throws ApiError {
        HttpResponse<java.io.InputStream> response;
        try {
            response = http.send(builder(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            throw new ApiError("cannot reach berth at " + server + " (is it running? --server or BERTH_SERVER)");
        } catch (IOException e) {
            throw new ApiError("request to " + server + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError("interrupted");
        }
        try (java.io.InputStream in = response.body()) {
            if (response.statusCode() / 100 != 2) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                String message;
                try {
                    message = new JsonObject(text).getJsonObject("error").getString("message");
                } catch (RuntimeException e) {
                    message = "HTTP " + response.statusCode();
                }
                throw new ApiError(message);
            }
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            throw new ApiError("reading the answer from " + server + " failed: " + e.getMessage());
        }
    }

    /** A control-plane action: {@code POST /api/<action>} with a JSON body. */
    JsonObject action(String action, JsonObject body) throws ApiError {
        return send(builder("/api/" + action).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode(), StandardCharsets.UTF_8)));
    }

    /** {@code DELETE} on {@code path}. */
    JsonObject delete(String path) throws ApiError {
        return send(builder(path).DELETE());
    }

    /** {@code POST} of a JSON body to {@code path}. */
    JsonObject postJson(String path, JsonObject body) throws ApiError {
        return send(builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode(), StandardCharsets.UTF_8)));
    }

    private HttpRequest.Builder builder(String path) throws ApiError {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server + path));
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw new ApiError("not a server URL: " + server + " (expected e.g. http://127.0.0.1:5000)");
        }
    }

    private JsonObject send(HttpRequest.Builder request) throws ApiError {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new ApiError("cannot reach berth at " + server + " (is it running? --server or BERTH_SERVER)");
        } catch (IOException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ApiError("request to " + server + " failed: " + cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError("interrupted");
        }
        JsonObject body;
        try {
            body = new JsonObject(response.body());
        } catch (RuntimeException e) {
            throw new ApiError("unexpected answer from " + server + " (HTTP " + response.statusCode() + ")");
        }
        if (response.statusCode() / 100 != 2) {
            JsonObject error = body.getJsonObject("error", new JsonObject());
            if (response.statusCode() == 401 && authorization == null) {
                throw new ApiError(error.getString("message", "authentication required")
                        + " (sign in with --user and $BERTH_PASSWORD, or --token)");
            }
            String field = error.getString("field");
            throw new ApiError(error.getString("message", "HTTP " + response.statusCode())
                    + (field == null ? "" : " (field: " + field + ")"));
        }
        return body;
    }
}
