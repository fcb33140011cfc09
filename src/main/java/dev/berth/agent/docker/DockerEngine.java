package dev.berth.agent.docker;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The Docker Engine API over the local unix socket, version-pinned to {@code v1.41} (Docker 20.10,
 * Debian 12's engine) so that newer engines answer in the same shapes. Every call returns a future
 * completed on the caller's context; nothing blocks.
 */
public final class DockerEngine implements AutoCloseable {
    public static final String DEFAULT_SOCKET = "/var/run/docker.sock";
    private static final String API = "/v1.41";

    private final HttpClientAgent http;
    /** Log streams have their own connections: a followed log must never hold up a stop or a start. */
    private final HttpClientAgent streams;
    private final SocketAddress socket;

    public DockerEngine(Vertx vertx, String socketPath) {
        this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(8));
        this.streams = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false),
                new PoolOptions().setHttp1MaxSize(MAX_LOG_STREAMS));
        this.socket = SocketAddress.domainSocketAddress(socketPath);
    }

    /** Log streams open at once, at most; more wait for one to end. */
    public static final int MAX_LOG_STREAMS = 64;

    /** Whether a Docker Engine socket exists at {@code socketPath} (it may still not answer). */
    public static boolean socketPresent(String socketPath) {
        return Files.exists(Path.of(socketPath));
    }

    private RequestOptions request(HttpMethod method, String uri) {
        return new RequestOptions().setServer(socket).setHost("docker").setMethod(method).setURI(API + uri)
                .setTimeout(120_000);
    }

    /**
     * Sends {@code body} (null for none) and reads the whole answer; a status of 400 or more fails.
     * A GET answered 200 with nothing (seen rarely from a busy Engine) is asked again, twice at most.
     */
    private Future<Buffer> call(HttpMethod method, String uri, JsonObject body, Map<String, String> headers) {
        Future<Buffer> first = send(method, uri, body, headers);
        if (method != HttpMethod.GET) {
            return first;
        }
        return first.recover(e -> isEmptyAnswer(e) ? send(method, uri, body, headers) : Future.failedFuture(e))
                .recover(e -> isEmptyAnswer(e) ? send(method, uri, body, headers) : Future.failedFuture(e));
    }

    private static boolean isEmptyAnswer(Throwable e) {
        return e instanceof DockerException d && d.status() == 502 && d.getMessage().startsWith("empty answer");
    }

    private Future<Buffer> send(HttpMethod method, String uri, JsonObject body, Map<String, String> headers) {
        RequestOptions options = request(method, uri);
        headers.forEach(options::putHeader);
        if (body != null) {
            options.putHeader("Content-Type", "application/json");
        }
        return http.request(options)
                .compose(req -> body == null ? req.send() : req.send(body.toBuffer()))
                .recover(e -> Future.failedFuture(new DockerException(0, "cannot reach the Docker Engine at "
                        + socket.path() + ": " + e.getMessage())))
                .compose(resp -> resp.body().compose(b -> {
                    if (resp.statusCode() >= 400) {
                        return Future.failedFuture(new DockerException(resp.statusCode(), message(b, resp.statusCode())));
                    }
                    if (b.length() == 0 && resp.statusCode() == 200 && method == HttpMethod.GET) {
                        return Future.failedFuture(new DockerException(502, "empty answer from the Engine to " + method + " "
                                + uri + " (HTTP " + resp.statusCode() + ", " + resp.headers().entries() + ")"));
                    }
                    return Future.succeededFuture(b);
                }));
    }

    private static String message(Buffer body, int status) {
        try {
            String m = new JsonObject(body).getString("message");
            if (m != null) {
                return m;
            }
        } catch (DecodeException | ClassCastException e) {
            // not JSON: use the text
        }
        String text = body.toString(StandardCharsets.UTF_8).strip();
        return text.isEmpty() ? "HTTP " + status : text;
    }

    private static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    public Future<Void> ping() {
        return call(HttpMethod.GET, "/_ping", null, Map.of()).mapEmpty();
    }

    /** {@code GET /info}: NCPU, MemTotal, Name, ServerVersion, OperatingSystem, Architecture, … */
    public Future<JsonObject> info() {
        return call(HttpMethod.GET, "/info", null, Map.of()).compose(DockerEngine::json);
    }

    /** The answer as a JSON object; an empty or garbled one is an Engine failure, not a parse error. */
    private static Future<JsonObject> json(Buffer body) {
        try {
            return Future.succeededFuture(new JsonObject(body));
        } catch (DecodeException | ClassCastException e) {
            return Future.failedFuture(new DockerException(502, "the Engine's answer is not a JSON object ("
                    + body.length() + " bytes)"));
        }
    }

    /**
     * Pulls {@code image} ({@code repo:tag} or {@code repo@digest}). The Engine streams progress
     * as JSON lines and reports failures inside that stream with a 200 status; the last error line,
     * if any, fails the future. {@code auth} is the X-Registry-Auth JSON, or null.
     */
    public Future<Void> pull(String image, JsonObject auth) {
        String uri = "/images/create?fromImage=" + q(image);
        Map<String, String> headers = auth == null ? Map.of() : Map.of("X-Registry-Auth",
                Base64.getUrlEncoder().encodeToString(auth.encode().getBytes(StandardCharsets.UTF_8)));
        return call(HttpMethod.POST, uri, null, headers).compose(b -> {
            String error = null;
            for (String line : b.toString(StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonObject progress = new JsonObject(line);
                    if (progress.containsKey("error")) {
                        error = progress.getString("error");
                    }
                } catch (DecodeException e) {
                    // a partial line: ignore
                }
            }
            return error == null ? Future.succeededFuture() : Future.failedFuture(new DockerException(500, error));
        });
    }

    /** Whether the image is present locally. */
    public Future<Boolean> imagePresent(String image) {
        return call(HttpMethod.GET, "/images/" + q(image) + "/json", null, Map.of()).map(b -> true)
                .recover(e -> e instanceof DockerException d && d.notFound() ? Future.succeededFuture(false)
                        : Future.failedFuture(e));
    }

    /** Creates a container named {@code name} from a create body (Image, Cmd, HostConfig, …); answers its id. */
    public Future<String> create(String name, JsonObject config) {
        return call(HttpMethod.POST, "/containers/create?name=" + q(name), config, Map.of())
                .compose(DockerEngine::json).map(o -> o.getString("Id"));
    }

    public Future<Void> start(String id) {
        return call(HttpMethod.POST, "/containers/" + q(id) + "/start", null, Map.of()).mapEmpty();
    }

    /** SIGTERM (or the image's stop signal), then SIGKILL after {@code timeoutSeconds}. */
    public Future<Void> stop(String id, int timeoutSeconds) {
        return call(HttpMethod.POST, "/containers/" + q(id) + "/stop?t=" + timeoutSeconds, null, Map.of()).mapEmpty();
    }

    public Future<Void> kill(String id, String signal) {
        return call(HttpMethod.POST, "/containers/" + q(id) + "/kill?signal=" + q(signal), null, Map.of()).mapEmpty();
    }

    public Future<Void> remove(String id, boolean force) {
        return call(HttpMethod.DELETE, "/containers/" + q(id) + "?v=true&force=" + force, null, Map.of()).mapEmpty();
    }

    /** Removes a named volume; a volume already gone is fine. */
    public Future<Void> removeVolume(String name) {
        return call(HttpMethod.DELETE, "/volumes/" + q(name), null, Map.of()).<Void>mapEmpty()
                .recover(e -> e instanceof DockerException d && d.notFound() ? Future.succeededFuture() : Future.failedFuture(e));
    }

    public Future<JsonObject> inspect(String id) {
        return call(HttpMethod.GET, "/containers/" + q(id) + "/json", null, Map.of()).compose(DockerEngine::json);
    }

    /** Containers (running or not) carrying {@code label} (as {@code key} or {@code key=value}). */
    public Future<JsonArray> list(String label) {
        String filters = new JsonObject().put("label", new JsonArray().add(label)).encode();
        return call(HttpMethod.GET, "/containers/json?all=true&filters=" + q(filters), null, Map.of()).map(JsonArray::new);
    }

    /** A log stream being read: {@link #ended} completes when the Engine ends it, {@link #cancel} ends it early. */
    public record LogStream(Future<Void> ended, Runnable cancel) {
    }

    /**
     * Streams a container's stdout and stderr (the Engine's multiplexed framing decoded) to
     * {@code sink} as the Engine sends it; with {@code follow}, until the container stops or the
     * stream is cancelled. {@code tail} below 0 means all of it.
     */
    public Future<LogStream> logs(String id, boolean follow, int tail, Consumer<Buffer> sink) {
        String uri = "/containers/" + q(id) + "/logs?stdout=true&stderr=true&follow=" + follow
                + (tail >= 0 ? "&tail=" + tail : "");
        return streams.request(request(HttpMethod.GET, uri).setTimeout(follow ? 0 : 120_000)).compose(req -> req.send()
                .compose(resp -> {
                    if (resp.statusCode() >= 400) {
                        return resp.body().compose(b -> Future.failedFuture(new DockerException(resp.statusCode(),
                                message(b, resp.statusCode()))));
                    }
                    return Future.succeededFuture(new LogStream(demultiplex(resp, sink), () -> req.reset()));
                }));
    }

    /** Docker's log framing: 8-byte headers (stream, 0, 0, 0, big-endian size) before each chunk. */
    private static Future<Void> demultiplex(HttpClientResponse resp, Consumer<Buffer> sink) {
        Buffer[] pending = {Buffer.buffer()};
        resp.handler(chunk -> {
            Buffer b = pending[0].appendBuffer(chunk);
            int at = 0;
            while (b.length() - at >= 8) {
                int size = b.getInt(at + 4);
                if (b.length() - at - 8 < size) {
                    break;
                }
                sink.accept(b.getBuffer(at + 8, at + 8 + size));
                at += 8 + size;
            }
            pending[0] = b.getBuffer(at, b.length());
        });
        return resp.end();
    }

    /** Names of the volumes whose names start with {@code prefix}. */
    public Future<java.util.List<String>> volumes(String prefix) {
        String filters = new JsonObject().put("name", new JsonArray().add(prefix)).encode();
        return call(HttpMethod.GET, "/volumes?filters=" + q(filters), null, Map.of()).compose(DockerEngine::json).map(o -> {
            java.util.List<String> names = new java.util.ArrayList<>();
            JsonArray list = o.getJsonArray("Volumes", new JsonArray());
            for (Object v : list) {
                String name = ((JsonObject) v).getString("Name");
                if (name != null && name.startsWith(prefix)) {
                    names.add(name);
                }
            }
            return names;
        });
    }

    @Override
    public void close() {
        http.close();
        streams.close();
    }
}
