package dev.berth.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.BerthProcess;
import dev.berth.testing.Fixtures;
import dev.berth.testing.TestRegistry;
import dev.berth.testing.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth webhook ls|deliveries|redeliver} run in-process (picocli's {@code execute}, so no
 * {@code System.exit}) against a real server with two endpoints: {@code good} (a receiver that
 * accepts everything) and {@code bad} (a receiver answering 500, {@code maxAttempts: 1}, so its
 * one delivery is parked as failed at once). The redelivery test changes that state, so it runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(60)
class WebhookCommandTest {
    private static final String REPO = "team/app";
    private static final String TAG = "v1";

    @TempDir
    static Path dir;

    private static WebhookReceiver goodReceiver;
    private static WebhookReceiver badReceiver;
    private static TestRegistry registry;
    private static Fixtures.Image image;

    @BeforeAll
    static void startServerAndParkOneDelivery() throws Exception {
        goodReceiver = WebhookReceiver.start();
        badReceiver = WebhookReceiver.start();
        badReceiver.answerWith(500);
        Path config = dir.resolve("webhooks.yaml");
        Files.writeString(config, """
                notifications:
                  endpoints:
                    - name: good
                      url: %s
                    - name: bad
                      url: %s
                      maxAttempts: 1
                      backoff:
                        initial: 100ms
                        max: 200ms
                      filter:
                        preset: manifest-pushed-by-tag
                """.formatted(goodReceiver.url("/good"), badReceiver.url("/bad")));
        registry = TestRegistry.start(dir.resolve("storage"), config, Map.of());
        image = Fixtures.pushImage(registry.client(), REPO, TAG, 1, false, "amd64");

        goodReceiver.await(events -> events.stream().anyMatch(e -> isManifestPush(e, image.digest())),
                Duration.ofSeconds(20), "the manifest push at the good endpoint");
        awaitApi("/api/webhooks", body -> {
            JsonObject good = endpoint(body, "good");
            JsonObject bad = endpoint(body, "bad");
            return good.getLong("backlog") == 0 && bad.getLong("failed") == 1 && bad.getLong("backlog") == 0;
        }, "good drained and bad's delivery parked");
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
        if (goodReceiver != null) {
            goodReceiver.close();
        }
        if (badReceiver != null) {
            badReceiver.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static boolean isManifestPush(JsonObject event, String digest) {
        JsonObject target = event.getJsonObject("target", new JsonObject());
        return "push".equals(event.getString("action")) && digest.equals(target.getString("digest"))
                && TAG.equals(target.getString("tag"));
    }

    private static JsonObject endpoint(JsonObject body, String name) {
        for (Object o : body.getJsonArray("endpoints")) {
            JsonObject e = (JsonObject) o;
            if (name.equals(e.getString("name"))) {
                return e;
            }
        }
        throw new AssertionError("no endpoint " + name + " in " + body.encode());
    }

    private static JsonObject api(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(registry.baseUrl() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    private static JsonObject awaitApi(String path, Predicate<JsonObject> condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonObject body = null;
        while (System.nanoTime() < deadline) {
            body = api(path);
            if (condition.test(body)) {
                return body;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + "; last " + path + ": " + body);
    }

    private static Cli.Run webhook(String... args) {
        List<String> all = new ArrayList<>(List.of("webhook"));
        all.addAll(List.of(args));
        all.add("--server");
        all.add(registry.baseUrl());
        return Cli.berth(all.toArray(String[]::new));
    }

    private static List<Map<String, String>> table(String text) {
        return Cli.table(text);
    }

    private static Map<String, String> rowWhere(List<Map<String, String>> rows, String column, String value) {
        return rows.stream().filter(r -> value.equals(r.get(column))).findFirst()
                .orElseThrow(() -> new AssertionError("no row with " + column + "=" + value + " in " + rows));
    }

    private static JsonObject parkedDelivery() throws Exception {
        JsonArray failed = api("/api/webhooks/deliveries?status=failed").getJsonArray("deliveries");
        assertEquals(1, failed.size(), failed.encode());
        return failed.getJsonObject(0);
    }

    // ---------------------------------------------------------------- ls

    @Test
    @Order(1)
    void lsListsBothEndpointsWithBacklogAndFailedCounts() {
        Cli.Run run = webhook("ls");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("", run.err(), run.toString());
        List<String> lines = run.out().lines().toList();
        assertEquals(3, lines.size(), run.toString());
        assertTrue(lines.get(0).matches("NAME\\s+URL\\s+STATE\\s+BACKLOG\\s+FAILED\\s+LAST SUCCESS\\s+LAST ERROR"),
                lines.get(0));
        List<Map<String, String>> rows = table(run.out());
        assertEquals(List.of("good", "bad"), rows.stream().map(r -> r.get("NAME")).toList(), "configuration order");

        Map<String, String> good = rowWhere(rows, "NAME", "good");
        assertEquals(goodReceiver.url("/good"), good.get("URL"));
        assertEquals("enabled", good.get("STATE"));
        assertEquals("0", good.get("BACKLOG"));
        assertEquals("0", good.get("FAILED"));
        assertTrue(good.get("LAST SUCCESS").matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), good.toString());
        assertEquals("-", good.get("LAST ERROR"));

        Map<String, String> bad = rowWhere(rows, "NAME", "bad");
        assertEquals(badReceiver.url("/bad"), bad.get("URL"));
        assertEquals("enabled", bad.get("STATE"));
        assertEquals("0", bad.get("BACKLOG"));
        assertEquals("1", bad.get("FAILED"));
        assertEquals("-", bad.get("LAST SUCCESS"));
        assertTrue(bad.get("LAST ERROR").contains("HTTP 500"), bad.toString());
    }

    @Test
    @Order(2)
    void lsAsJsonIsValidJsonWithTheEndpoints() {
        Cli.Run run = webhook("ls", "-o", "json");
        assertEquals(0, run.exit(), run.toString());
        JsonObject body = new JsonObject(run.out());
        JsonArray endpoints = body.getJsonArray("endpoints");
        assertEquals(2, endpoints.size(), run.out());
        JsonObject good = endpoints.getJsonObject(0);
        assertEquals("good", good.getString("name"));
        assertEquals(goodReceiver.url("/good"), good.getString("url"));
        assertEquals(false, good.getBoolean("disabled"));
        assertEquals(0L, good.getLong("backlog"));
        assertEquals(0L, good.getLong("failed"));
        assertNotNull(good.getString("lastSuccessAt"), run.out());
        JsonObject bad = endpoints.getJsonObject(1);
        assertEquals("bad", bad.getString("name"));
        assertEquals(badReceiver.url("/bad"), bad.getString("url"));
        assertEquals(0L, bad.getLong("backlog"));
        assertEquals(1L, bad.getLong("failed"));
        assertTrue(bad.getString("lastError").contains("HTTP 500"), run.out());
        assertNotNull(bad.getString("lastErrorAt"), run.out());

        // the long option spelling too
        Cli.Run longForm = webhook("ls", "--output", "json");
        assertEquals(0, longForm.exit(), longForm.toString());
        assertEquals(2, new JsonObject(longForm.out()).getJsonArray("endpoints").size());
    }

    // ---------------------------------------------------------------- deliveries

    @Test
    @Order(3)
    void deliveriesWithStatusFailedShowsTheParkedDelivery() throws Exception {
        JsonObject parked = parkedDelivery();
        Cli.Run run = webhook("deliveries", "--status", "failed");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("", run.err(), run.toString());
        assertTrue(run.out().lines().findFirst().orElse("")
                .matches("ID\\s+ENDPOINT\\s+STATUS\\s+ATTEMPTS\\s+ACTION\\s+REPOSITORY\\s+TAG\\s+DIGEST\\s+LAST ERROR"),
                run.toString());
        List<Map<String, String>> rows = table(run.out());
        assertEquals(1, rows.size(), run.toString());
        Map<String, String> row = rows.get(0);
        assertEquals(String.valueOf(parked.getLong("id")), row.get("ID"));
        assertEquals("bad", row.get("ENDPOINT"));
        assertEquals("failed", row.get("STATUS"));
        assertEquals("1", row.get("ATTEMPTS"));
        assertEquals("push", row.get("ACTION"));
        assertEquals(REPO, row.get("REPOSITORY"));
        assertEquals(TAG, row.get("TAG"));
        assertEquals(image.digest().substring(0, 19), row.get("DIGEST"));
        assertTrue(row.get("LAST ERROR").contains("HTTP 500"), row.toString());
    }

    @Test
    @Order(4)
    void deliveriesFiltersByEndpointAndStatus() throws Exception {
        Cli.Run goodFailed = webhook("deliveries", "--endpoint", "good", "--status", "failed");
        assertEquals(0, goodFailed.exit(), goodFailed.toString());
        assertTrue(table(goodFailed.out()).isEmpty(), goodFailed.toString());

        Cli.Run goodDelivered = webhook("deliveries", "--endpoint", "good", "--status", "delivered", "-o", "json");
        assertEquals(0, goodDelivered.exit(), goodDelivered.toString());
        JsonArray delivered = new JsonObject(goodDelivered.out()).getJsonArray("deliveries");
        assertFalse(delivered.isEmpty(), goodDelivered.out());
        for (Object o : delivered) {
            JsonObject d = (JsonObject) o;
            assertEquals("good", d.getString("endpoint"));
            assertEquals("delivered", d.getString("status"));
        }
        assertTrue(delivered.stream().map(o -> ((JsonObject) o).getJsonObject("event"))
                        .anyMatch(e -> image.digest().equals(e.getString("digest")) && TAG.equals(e.getString("tag"))),
                goodDelivered.out());

        Cli.Run badJson = webhook("deliveries", "--endpoint", "bad", "-o", "json");
        assertEquals(0, badJson.exit(), badJson.toString());
        JsonArray bad = new JsonObject(badJson.out()).getJsonArray("deliveries");
        assertEquals(1, bad.size(), "the preset lets only the tagged manifest push through: " + badJson.out());
        assertEquals("failed", bad.getJsonObject(0).getString("status"));
        assertEquals(parkedDelivery().getLong("id"), bad.getJsonObject(0).getLong("id"));

        // Paging back with --limit and --before gives the whole list, newest first, one row at a time.
        List<Long> all = new JsonObject(webhook("deliveries", "-o", "json").out()).getJsonArray("deliveries").stream()
                .map(o -> ((JsonObject) o).getLong("id")).toList();
        assertTrue(all.size() >= 2, all.toString());
        List<Long> paged = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of("deliveries", "--limit", "1"));
        for (int i = 0; i <= all.size(); i++) {
            Cli.Run page = webhook(args.toArray(String[]::new));
            assertEquals(0, page.exit(), page.toString());
            List<Map<String, String>> rows = table(page.out());
            if (rows.isEmpty()) {
                break;
            }
            assertEquals(1, rows.size(), page.toString());
            paged.add(Long.parseLong(rows.get(0).get("ID")));
            args = new ArrayList<>(List.of("deliveries", "--limit", "1", "--before", rows.get(0).get("ID")));
        }
        assertEquals(all, paged);
    }

    @Test
    @Order(5)
    void bogusStatusExits1WithTheServersMessageNamingTheField() {
        Cli.Run run = webhook("deliveries", "--status", "bogus");
        assertEquals(1, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        assertTrue(run.err().startsWith("berth: "), run.toString());
        assertTrue(run.err().contains("pending, delivered, failed"), run.toString());
        assertTrue(run.err().contains("(field: status)"), run.toString());
    }

    @Test
    @Order(6)
    void unknownEndpointExits1NamingTheField() {
        Cli.Run run = webhook("deliveries", "--endpoint", "nope");
        assertEquals(1, run.exit(), run.toString());
        assertTrue(run.err().contains("nope"), run.toString());
        assertTrue(run.err().contains("(field: endpoint)"), run.toString());
    }

    @Test
    @Order(7)
    void unknownOutputFormatExits2() {
        for (String[] args : List.of(new String[] {"ls", "--output", "yaml"},
                new String[] {"deliveries", "-o", "yaml"}, new String[] {"redeliver", "1", "-o", "yaml"})) {
            Cli.Run run = webhook(args);
            assertEquals(2, run.exit(), String.join(" ", args) + ": " + run);
            assertEquals("", run.out(), run.toString());
            assertTrue(run.err().contains("--output must be table or json"), run.toString());
        }
    }

    @Test
    @Order(8)
    void unreachableServerExits1() throws Exception {
        String nobody = "http://127.0.0.1:" + BerthProcess.freePort();
        for (String sub : List.of("ls", "deliveries")) {
            Cli.Run run = Cli.berth("webhook", sub, "--server", nobody);
            assertEquals(1, run.exit(), sub + ": " + run);
            assertEquals("", run.out(), run.toString());
            assertTrue(run.err().contains("cannot reach berth"), run.toString());
            assertTrue(run.err().contains(nobody), run.toString());
        }
        Cli.Run redeliver = Cli.berth("webhook", "redeliver", "1", "--server", nobody);
        assertEquals(1, redeliver.exit(), redeliver.toString());
        assertTrue(redeliver.err().contains("cannot reach berth"), redeliver.toString());
    }

    @Test
    @Order(9)
    void redeliverOfAnUnknownIdExits1() {
        Cli.Run run = webhook("redeliver", "987654321");
        assertEquals(1, run.exit(), run.toString());
        assertTrue(run.err().contains("no delivery 987654321"), run.toString());
        assertTrue(run.err().contains("(field: id)"), run.toString());
    }

    @Test
    @Order(10)
    void webhookWithoutASubcommandPrintsUsageToStderrAndExits2() {
        Cli.Run run = Cli.berth("webhook");
        assertEquals(2, run.exit(), run.toString());
        assertEquals("", run.out(), run.toString());
        for (String sub : List.of("ls", "deliveries", "redeliver")) {
            assertTrue(run.err().contains(sub), "usage lists " + sub + ": " + run);
        }
    }

    @Test
    @Order(11)
    void aServerThatIsNotAUrlExits1WithAnExample() {
        for (String server : List.of("not a url", "127.0.0.1:5000", "ftp://127.0.0.1:5000")) {
            Cli.Run run = Cli.berth("webhook", "ls", "--server", server);
            assertEquals(1, run.exit(), server + ": " + run);
            assertEquals("", run.out(), run.toString());
            assertTrue(run.err().contains(server), run.toString());
            assertFalse(run.err().contains("Exception"), "a message, not a stack trace: " + run);
        }
    }

    // ---------------------------------------------------------------- redeliver (changes the state: last)

    @Test
    @Order(100)
    void redeliverQueuesTheParkedDeliveryWhichArrivesOnceTheReceiverIsFixed() throws Exception {
        long id = parkedDelivery().getLong("id");
        int requestsBefore = badReceiver.requests().size();
        assertEquals(1, requestsBefore, "the bad endpoint was tried exactly once (maxAttempts 1)");
        assertTrue(badReceiver.acceptedEvents().isEmpty());

        badReceiver.answerWith(200);
        Cli.Run run = webhook("redeliver", String.valueOf(id));
        assertEquals(0, run.exit(), run.toString());
        assertEquals("delivery " + id + " queued again for endpoint bad", run.out().strip());
        assertEquals("", run.err(), run.toString());

        List<JsonObject> events = badReceiver.await(e -> !e.isEmpty(), Duration.ofSeconds(20),
                "the redelivered event at the fixed receiver");
        assertEquals(1, events.size(), events.toString());
        assertTrue(isManifestPush(events.get(0), image.digest()), events.get(0).encode());
        assertEquals(REPO, events.get(0).getJsonObject("target").getString("repository"));

        JsonObject delivered = awaitApi("/api/webhooks/deliveries?endpoint=bad", body -> {
            JsonObject d = body.getJsonArray("deliveries").getJsonObject(0);
            return "delivered".equals(d.getString("status"));
        }, "the redelivered delivery to be marked delivered").getJsonArray("deliveries").getJsonObject(0);
        assertEquals(id, delivered.getLong("id"), "the same delivery, not a new one");
        assertEquals(1, delivered.getInteger("attempts"), "fresh attempts: one successful try");
        assertNull(delivered.getString("lastError"));

        Cli.Run failedNow = webhook("deliveries", "--status", "failed");
        assertEquals(0, failedNow.exit(), failedNow.toString());
        assertTrue(table(failedNow.out()).isEmpty(), failedNow.toString());

        Map<String, String> bad = rowWhere(table(webhook("ls").out()), "NAME", "bad");
        assertEquals("0", bad.get("FAILED"));
        assertEquals("0", bad.get("BACKLOG"));
        assertFalse("-".equals(bad.get("LAST SUCCESS")), bad.toString());

        // redelivering a delivered one sends it again; the JSON answer says it is pending
        Cli.Run again = webhook("redeliver", String.valueOf(id), "-o", "json");
        assertEquals(0, again.exit(), again.toString());
        JsonObject answer = new JsonObject(again.out());
        assertEquals(id, answer.getLong("id"));
        assertEquals("bad", answer.getString("endpoint"));
        assertEquals("pending", answer.getString("status"));
        badReceiver.await(e -> e.size() == 2, Duration.ofSeconds(20), "the second redelivery");
    }
}
