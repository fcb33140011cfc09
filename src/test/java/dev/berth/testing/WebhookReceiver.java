package dev.berth.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * A real HTTP webhook receiver on 127.0.0.1 for tests (the JDK's HTTP server, independent of
 * Berth's code). It records every request; it can answer with a chosen status, stop listening
 * (connection refused) and start again on the same port.
 */
public final class WebhookReceiver implements AutoCloseable {
    /** One request as received. */
    public record Received(String path, Map<String, List<String>> headers, byte[] body, Instant at, int answeredWith) {
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        public JsonArray events() {
            return new JsonObject(new String(body, StandardCharsets.UTF_8)).getJsonArray("events");
        }
    }

    private final int port;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private HttpServer server;

    private WebhookReceiver(int port) {
        this.port = port;
    }

    /** Starts on a free port. */
    public static WebhookReceiver start() throws IOException {
        WebhookReceiver r = new WebhookReceiver(BerthProcess.freePort());
        r.listen();
        return r;
    }

    /** A receiver that owns a port but does not listen yet (connections are refused until {@link #listen()}). */
    public static WebhookReceiver notListening() throws IOException {
        return new WebhookReceiver(BerthProcess.freePort());
    }

    public synchronized void listen() throws IOException {
        if (server != null) {
            return;
        }
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    /** Stops listening: further deliveries get "connection refused". */
    public synchronized void stopListening() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** The status every request is answered with from now on. */
    public void answerWith(int status) {
        this.status = status;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        int answer = status;
        received.add(new Received(exchange.getRequestURI().getPath(), Map.copyOf(exchange.getRequestHeaders()), body,
                Instant.now(), answer));
        exchange.sendResponseHeaders(answer, -1);
        exchange.close();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public int port() {
        return port;
    }

    /** Every request so far, in arrival order. */
    public List<Received> requests() {
        return List.copyOf(received);
    }

    /** The events of every request answered with 2xx, in arrival order. */
    public List<JsonObject> acceptedEvents() {
        List<JsonObject> events = new ArrayList<>();
        for (Received r : received) {
            if (r.answeredWith() / 100 == 2) {
                r.events().forEach(e -> events.add((JsonObject) e));
            }
        }
        return events;
    }

    /** Waits until {@code condition} holds for the accepted events, or fails after {@code timeout}. */
    public List<JsonObject> await(Predicate<List<JsonObject>> condition, Duration timeout, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonObject> events = acceptedEvents();
            if (condition.test(events)) {
                return events;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + "; accepted events so far: " + acceptedEvents().size()
                + ", requests: " + received.size());
    }

    @Override
    public void close() {
        stopListening();
    }
}
