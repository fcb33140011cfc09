package dev.berth.notify;

import static dev.berth.testing.Fixtures.pushImage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.BerthProcess;
import dev.berth.testing.Fixtures;
import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import dev.berth.testing.WebhookReceiver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability of push webhooks and of the in-process event feed, end to end: a receiver that is down
 * while events pile up, a server killed with {@code kill -9} while deliveries are pending, and feed
 * subscribers whose handlers fail or never finish across restarts. Nothing acknowledged may be lost,
 * and order is preserved (at-least-once: duplicates are allowed, and counted).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WebhookDurabilityTest {
    private static final String REPO = "durable/app";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path storage;
    @TempDir
    Path dir;

    // ------------------------------------------------------------------ a. receiver down, then up

    @Test
    void receiverDownDuringTwoHundredPushesGetsAllOfThemInOrderOnceUp() throws Exception {
        int n = 200;
        try (WebhookReceiver down = WebhookReceiver.notListening();
             WebhookReceiver up = WebhookReceiver.start()) {
            Path config = writeConfig(
                    endpoint("down", down.url("/hook"), "manifest-pushed-by-tag", 1000),
                    endpoint("up", up.url("/hook"), "manifest-pushed-by-tag", 1000));
            List<String> pushed = new ArrayList<>();
            long pushStart = System.nanoTime();
            try (TestRegistry registry = TestRegistry.start(storage, config, Map.of())) {
                RegistryClient client = registry.client();
                Image image = pushImage(client, REPO, tag(0));
                pushed.add(tag(0));
                for (int i = 1; i < n; i++) {
                    client.pushManifest(REPO, tag(i), image.mediaType(), image.manifest());
                    pushed.add(tag(i));
                }
                long pushMs = (System.nanoTime() - pushStart) / 1_000_000;

                // The endpoint that is up gets everything while the other one is still refusing connections.
                List<JsonObject> upEvents = up.await(events -> distinctTags(events).size() >= n, WAIT,
                        "all " + n + " events at the endpoint that is up");
                assertTrue(down.requests().isEmpty(), "the down receiver cannot have received anything");
                assertPushEvents(upEvents, image);
                assertEquals(pushed, firstArrivalOrder(upEvents), "endpoint 'up': first arrivals in push order");

                EndpointHealth downHealth = health(registry, "down");
                assertEquals(n, downHealth.backlog(), "every event waits for the down endpoint: " + downHealth);
                assertEquals(0, downHealth.failed(), "nothing parked while retrying: " + downHealth);
                assertTrue(downHealth.lastErrorAt() > 0 && downHealth.lastError() != null,
                        "the failed attempts are visible: " + downHealth);

                long upAt = System.nanoTime();
                down.listen();
                List<JsonObject> downEvents = down.await(events -> distinctTags(events).size() >= n, WAIT,
                        "all " + n + " events at the endpoint that was down");
                long catchUpMs = (System.nanoTime() - upAt) / 1_000_000;
                assertPushEvents(downEvents, image);
                assertEquals(pushed, firstArrivalOrder(downEvents), "endpoint 'down': first arrivals in push order");

                awaitTrue(() -> health(registry, "down").backlog() == 0, "the down endpoint's backlog drains");
                EndpointHealth after = health(registry, "down");
                assertEquals(0, after.failed(), after.toString());
                assertTrue(after.lastSuccessAt() > 0, after.toString());

                System.out.printf("[durability a] %d pushes in %d ms; down endpoint caught up in %d ms;"
                                + " duplicates: down=%d up=%d; requests: down=%d up=%d%n",
                        n, pushMs, catchUpMs, downEvents.size() - n, upEvents.size() - n,
                        down.requests().size(), up.requests().size());
            }
        }
    }

    // ------------------------------------------------------------------ b. kill -9 with pending events

    @Test
    void killNineWhileEventsArePendingLosesNothing() throws Exception {
        int n = 50;
        try (WebhookReceiver receiver = WebhookReceiver.notListening()) {
            Path config = writeConfig(endpoint("hook", receiver.url("/hook"), "manifest-pushed-by-tag", 1000));
            List<String> pushed = new ArrayList<>();
            Image image;
            try (BerthProcess first = BerthProcess.start(storage, dir.resolve("first.log"), Map.of(),
                    "--config", config.toString())) {
                RegistryClient client = first.client();
                image = pushImage(client, REPO, tag(0)); // fails unless 201
                pushed.add(tag(0));
                for (int i = 1; i < n; i++) {
                    client.pushManifest(REPO, tag(i), image.mediaType(), image.manifest()); // fails unless 201
                    pushed.add(tag(i));
                }
                first.kill9();
                assertFalse(first.process().isAlive(), "berth was killed");
            }
            assertTrue(receiver.requests().isEmpty());

            receiver.listen();
            long restartAt = System.nanoTime();
            try (BerthProcess second = BerthProcess.start(storage, dir.resolve("second.log"), Map.of(),
                    "--config", config.toString())) {
                List<JsonObject> events;
                try {
                    events = receiver.await(e -> distinctTags(e).size() >= n, WAIT,
                            "all " + n + " events pushed before kill -9");
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; tags so far: " + distinctTags(receiver.acceptedEvents())
                            + "\n--- log of the restarted server:\n" + second.output(), e);
                }
                long ms = (System.nanoTime() - restartAt) / 1_000_000;
                assertPushEvents(events, image);
                assertEquals(pushed, firstArrivalOrder(events), "first arrivals in push order");
                System.out.printf("[durability b] %d events delivered %d ms after the restart; duplicates: %d;"
                        + " requests: %d%n", n, ms, events.size() - n, receiver.requests().size());
            }
        }
    }

    // ------------------------------------------------------------------ d. HTTP errors, parking, redelivery

    @Test
    void httpErrorsAreRetriedThenParkedWithoutHoldingUpLaterEventsAndCanBeRedelivered() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            receiver.answerWith(503);
            Path config = writeConfig(endpoint("flaky", receiver.url("/hook"), "manifest-pushed-by-tag", 3));
            try (TestRegistry registry = TestRegistry.start(storage, config, Map.of())) {
                RegistryClient client = registry.client();
                Outbox outbox = registry.server().notifications().outbox();
                Image image = pushImage(client, REPO, "parked");
                awaitTrue(() -> !get(outbox.deliveries(Optional.of("flaky"), Optional.of(Delivery.FAILED), Optional.empty(), 10)).isEmpty(),
                        "the delivery is parked after 3 attempts");
                Delivery parked = get(outbox.deliveries(Optional.of("flaky"), Optional.of(Delivery.FAILED), Optional.empty(), 10)).get(0);
                assertEquals("parked", parked.tag());
                assertEquals(3, parked.attempts(), parked.toString());
                assertEquals("HTTP 503", parked.lastError(), parked.toString());
                assertEquals(3, receiver.requests().size(), "exactly maxAttempts attempts");

                receiver.answerWith(200);
                client.pushManifest(REPO, "after", image.mediaType(), image.manifest());
                receiver.await(e -> tags(e).contains("after"), WAIT, "the event after the parked one");
                assertEquals(List.of("after"), tags(receiver.acceptedEvents()), "the parked event is not sent again");

                assertEquals(Optional.of("flaky"), get(outbox.redeliver(parked.id())));
                List<JsonObject> events = receiver.await(e -> tags(e).contains("parked"), WAIT, "the redelivered event");
                assertEquals(List.of("after", "parked"), tags(events));
                awaitTrue(() -> health(registry, "flaky").backlog() == 0 && health(registry, "flaky").failed() == 0,
                        "nothing pending or parked after the redelivery");
            }
        }
    }

    // ------------------------------------------------------------------ c. in-process feed

    @Test
    void feedGetsCommittedMatchingEventsInOrder() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            // An endpoint that wants everything, so the log also holds events the subscriber must skip.
            Path config = writeConfig(endpoint("all", receiver.url("/hook"), null, 10));
            try (TestRegistry registry = TestRegistry.start(storage, config, Map.of())) {
                List<Event> seen = Collections.synchronizedList(new ArrayList<>());
                subscribe(registry, "test-feed", e -> {
                    seen.add(e);
                    return Future.succeededFuture();
                });
                RegistryClient client = registry.client();
                Outbox outbox = registry.server().notifications().outbox();
                Image image = pushImage(client, REPO, "f1");
                assertTrue(storedTags(outbox).contains("f1"), "the event is committed before the 201");
                for (int i = 2; i <= 5; i++) {
                    client.pushManifest(REPO, "f" + i, image.mediaType(), image.manifest());
                    assertTrue(storedTags(outbox).contains("f" + i), "the event is committed before the 201");
                    // activity the subscriber's filter does not match, between its events
                    RegistryClient.expect(client.get("/v2/" + REPO + "/manifests/f" + i,
                            "Accept", image.mediaType()), 200);
                    client.pushManifest(REPO, image.digest(), image.mediaType(), image.manifest());
                }
                awaitTrue(() -> seen.size() >= 5, "the subscriber gets the five pushes by tag");
                Thread.sleep(300); // anything unexpected would show up now
                List<String> tags = seen.stream().map(e -> e.target().tag()).toList();
                assertEquals(List.of("f1", "f2", "f3", "f4", "f5"), tags, "only matching events, in push order");
                for (Event e : seen) {
                    assertEquals(Event.PUSH, e.action());
                    assertEquals(REPO, e.target().repository());
                    assertEquals(image.digest(), e.target().digest());
                    assertEquals(image.mediaType(), e.target().mediaType());
                }
                List<Delivery> stored = get(outbox.deliveries(Optional.of("all"), Optional.empty(), Optional.empty(), 1000));
                assertTrue(stored.stream().anyMatch(d -> Event.PULL.equals(d.action())),
                        "the log holds non-matching events (pulls) too: " + stored.size());
                assertTrue(stored.stream().anyMatch(d -> Event.PUSH.equals(d.action()) && d.tag() == null),
                        "the log holds untagged pushes too");
            }
        }
    }

    @Test
    void failingHandlerIsRetriedAndLaterEventsWait() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage, Map.of())) {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger failuresLeft = new AtomicInteger(2);
            subscribe(registry, "test-feed", e -> {
                String tag = e.target().tag();
                if (tag.equals("g1") && failuresLeft.get() > 0) {
                    log.add(tag + ":fail");
                    if (failuresLeft.getAndDecrement() == 2) {
                        throw new IllegalStateException("handler threw");
                    }
                    return Future.failedFuture("handler failed");
                }
                log.add(tag + ":ok");
                return Future.succeededFuture();
            });
            RegistryClient client = registry.client();
            Image image = pushImage(client, REPO, "g1");
            client.pushManifest(REPO, "g2", image.mediaType(), image.manifest());
            client.pushManifest(REPO, "g3", image.mediaType(), image.manifest());
            awaitTrue(() -> log.contains("g3:ok"), "the last event is handled");
            Thread.sleep(300);
            assertEquals(List.of("g1:fail", "g1:fail", "g1:ok", "g2:ok", "g3:ok"), log,
                    "the failing event is retried, and nothing after it goes first");
        }
    }

    @Test
    void unfinishedFeedEventsAreHandedOverAgainAfterARestartAndFinishedOnesAreNot() throws Exception {
        Image image;
        // Run 1: h1 is handled, h2's handler never completes, so h3 waits too.
        List<String> run1 = Collections.synchronizedList(new ArrayList<>());
        try (TestRegistry registry = TestRegistry.start(storage, Map.of())) {
            EventFeed.Subscription s = subscribe(registry, "test-feed", e -> {
                run1.add(e.target().tag());
                return e.target().tag().equals("h2") ? Promise.<Void>promise().future() : Future.succeededFuture();
            });
            RegistryClient client = registry.client();
            image = pushImage(client, REPO, "h1");
            client.pushManifest(REPO, "h2", image.mediaType(), image.manifest());
            client.pushManifest(REPO, "h3", image.mediaType(), image.manifest());
            awaitTrue(() -> run1.contains("h2"), "h2 is handed over");
            Thread.sleep(300);
            assertEquals(List.of("h1", "h2"), run1, "h3 waits for h2");
            assertTrue(s.cursor() > 0, "h1 moved the cursor");
        }

        // Run 2: same subscriber name; h2 and h3 come again, h1 does not. Then i1 fails for good.
        List<String> run2 = Collections.synchronizedList(new ArrayList<>());
        try (TestRegistry registry = TestRegistry.start(storage, Map.of())) {
            subscribe(registry, "test-feed", e -> {
                run2.add(e.target().tag());
                return e.target().tag().equals("i1") ? Future.failedFuture("always fails") : Future.succeededFuture();
            });
            awaitTrue(() -> run2.contains("h3"), "h2 and h3 are handed over again after the restart");
            assertEquals(List.of("h2", "h3"), new ArrayList<>(new LinkedHashSet<>(run2)),
                    "the unfinished events, in order, and not the finished h1");
            RegistryClient client = registry.client();
            client.pushManifest(REPO, "i1", image.mediaType(), image.manifest());
            awaitTrue(() -> Collections.frequency(run2, "i1") >= 2, "i1 is retried");
        }

        // Run 3: only i1 comes again (h2 and h3 were acknowledged in run 2).
        List<String> run3 = Collections.synchronizedList(new ArrayList<>());
        try (TestRegistry registry = TestRegistry.start(storage, Map.of())) {
            subscribe(registry, "test-feed", e -> {
                run3.add(e.target().tag());
                return Future.succeededFuture();
            });
            awaitTrue(() -> run3.contains("i1"), "i1 is handed over again after the restart");
            Thread.sleep(300);
            assertEquals(List.of("i1"), run3, "only the unfinished event");
        }
    }

    @Test
    void aNewSubscriberStartsAtTheEndOfTheLog() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage, Map.of())) {
            List<String> first = Collections.synchronizedList(new ArrayList<>());
            subscribe(registry, "first", e -> {
                first.add(e.target().tag());
                return Future.succeededFuture();
            });
            RegistryClient client = registry.client();
            Image image = pushImage(client, REPO, "n1");
            client.pushManifest(REPO, "n2", image.mediaType(), image.manifest());
            awaitTrue(() -> first.size() >= 2, "the first subscriber gets n1 and n2");

            List<String> late = Collections.synchronizedList(new ArrayList<>());
            subscribe(registry, "late", e -> {
                late.add(e.target().tag());
                return Future.succeededFuture();
            });
            client.pushManifest(REPO, "n3", image.mediaType(), image.manifest());
            awaitTrue(() -> late.contains("n3") && first.contains("n3"), "both get n3");
            Thread.sleep(300);
            assertEquals(List.of("n3"), late, "the late subscriber starts at the end of the log");
            assertEquals(List.of("n1", "n2", "n3"), first);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static String tag(int i) {
        return String.format("t%03d", i);
    }

    private static String endpoint(String name, String url, String preset, int maxAttempts) {
        StringBuilder b = new StringBuilder()
                .append("    - name: ").append(name).append('\n')
                .append("      url: ").append(url).append('\n')
                .append("      timeout: 2s\n")
                .append("      backoff:\n        initial: 100ms\n        max: 1s\n")
                .append("      maxAttempts: ").append(maxAttempts).append('\n');
        if (preset != null) {
            b.append("      filter:\n        preset: ").append(preset).append('\n');
        }
        return b.toString();
    }

    private Path writeConfig(String... endpoints) throws Exception {
        Path file = dir.resolve("berth-" + System.nanoTime() + ".yaml");
        Files.writeString(file, "notifications:\n  endpoints:\n" + String.join("", endpoints));
        return file;
    }

    private static List<String> tags(List<JsonObject> events) {
        return events.stream().map(e -> e.getJsonObject("target").getString("tag")).toList();
    }

    private static LinkedHashSet<String> distinctTags(List<JsonObject> events) {
        return new LinkedHashSet<>(tags(events));
    }

    private static List<String> firstArrivalOrder(List<JsonObject> events) {
        return new ArrayList<>(distinctTags(events));
    }

    private static void assertPushEvents(List<JsonObject> events, Image image) {
        for (JsonObject e : events) {
            assertEquals(Event.PUSH, e.getString("action"), e::encode);
            JsonObject target = e.getJsonObject("target");
            assertNotNull(target, e::encode);
            assertEquals(REPO, target.getString("repository"), e::encode);
            assertEquals(image.digest(), target.getString("digest"), e::encode);
            assertEquals(Fixtures.OCI_MANIFEST, target.getString("mediaType"), e::encode);
        }
    }

    private static EventFeed.Subscription subscribe(TestRegistry registry, String name,
                                                    Function<Event, Future<Void>> handler) {
        return get(registry.server().notifications().feed().subscribe(name, EventFilter.manifestPushedByTag(), handler));
    }

    private static EndpointHealth health(TestRegistry registry, String name) {
        return get(registry.server().notifications().endpoints()).stream()
                .filter(h -> h.name().equals(name)).findFirst().orElseThrow();
    }

    private static List<String> storedTags(Outbox outbox) {
        return get(outbox.deliveries(Optional.empty(), Optional.empty(), Optional.empty(), 10_000)).stream()
                .map(Delivery::tag).toList();
    }

    static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        awaitTrue(condition, () -> what);
    }

    static void awaitTrue(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        Fixtures.awaitTrue(condition, what, WAIT);
    }
}
