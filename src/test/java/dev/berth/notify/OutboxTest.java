package dev.berth.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox and the feed directly over a real SQLite database file: group commit, delivery order,
 * parking, redelivery, clean-up, and the feed's durable cursor.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class OutboxTest {
    private static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final EventFilter DELETES = new EventFilter(List.of(Event.DELETE), List.of(), List.of(), null);
    private static final EventFilter PUSHES = new EventFilter(List.of(Event.PUSH), List.of(), List.of(), null);

    @TempDir
    Path dir;
    Vertx vertx;
    Database db;

    @BeforeEach
    void open() throws Exception {
        vertx = Vertx.vertx();
        db = openDatabase();
    }

    @AfterEach
    void close() throws Exception {
        if (db != null) {
            db.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Database openDatabase() throws Exception {
        return Database.open(vertx, dir.resolve("state.db").toString(), false, NotifySchema.MIGRATIONS);
    }

    // ------------------------------------------------------------------ recording

    @Test
    void concurrentRecordsShareOneCommitAndCompleteOnlyOnceCommitted() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        AtomicInteger commits = new AtomicInteger();
        outbox.onRecorded(endpoints -> commits.incrementAndGet());

        // Hold the database thread so that every record() below queues up behind one flush.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        db.transaction(c -> {
            holding.countDown();
            return release.await(30, TimeUnit.SECONDS);
        });
        assertTrue(holding.await(10, TimeUnit.SECONDS));

        int threads = 8;
        int perThread = 50;
        ConcurrentLinkedQueue<Future<Void>> futures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> submitted = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            submitted.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < perThread; i++) {
                    futures.add(outbox.record(List.of(push("c" + thread + "-" + i))));
                }
                return null;
            }));
        }
        go.countDown();
        for (java.util.concurrent.Future<?> f : submitted) {
            f.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        Thread.sleep(200);
        assertEquals(threads * perThread, futures.size());
        assertTrue(futures.stream().noneMatch(Future::isComplete), "nothing completes before the commit");
        assertEquals(0, commits.get());

        release.countDown();
        await(Future.all(new ArrayList<>(futures)));
        assertTrue(futures.stream().allMatch(Future::succeeded));
        System.out.printf("[outbox] %d concurrent records in %d commit(s)%n", futures.size(), commits.get());
        assertTrue(commits.get() >= 1 && commits.get() <= 4, "group commit: " + commits.get() + " commits");
        assertEquals(threads * perThread, count("SELECT COUNT(DISTINCT seq) FROM notify_event"));
        assertEquals(threads * perThread, count("SELECT COUNT(*) FROM notify_delivery WHERE endpoint = 'ep'"));
    }

    @Test
    void recordCompletesOnTheCallersContext() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        Context context = vertx.getOrCreateContext();
        AtomicReference<Context> completedOn = new AtomicReference<>();
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> outbox.record(List.of(push("ctx"))).onComplete(ar -> {
            completedOn.set(Vertx.currentContext());
            done.handle(ar);
        }));
        await(done.future());
        assertTrue(completedOn.get() == context, "completed on " + completedOn.get() + ", called on " + context);
    }

    @Test
    void eventsNobodyWantsAreNotStored() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("deletes", DELETES));
        assertFalse(outbox.isIdle());
        Future<Void> f = outbox.record(List.of(push("nobody-wants-this")));
        assertTrue(f.succeeded(), "completes at once");
        await(outbox.record(List.of(delete("gone"), push("also-not"))));
        assertEquals(1, count("SELECT COUNT(*) FROM notify_event"));
        assertEquals(List.of("gone"), tagsOf(await(outbox.nextBatch("deletes", 10))));
        assertTrue(new Outbox(vertx, db, Map.of()).isIdle());
    }

    // ------------------------------------------------------------------ delivery order

    @Test
    void batchesComeInEventOrderPerEndpoint() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("all", EventFilter.all(), "deletes", DELETES));
        await(outbox.record(List.of(push("e00"), push("e01"), delete("d0"))));
        List<Event> more = new ArrayList<>();
        for (int i = 2; i < 25; i++) {
            more.add(push(String.format("e%02d", i)));
        }
        await(outbox.record(more.subList(0, 10)));
        await(outbox.record(List.of(delete("d1"))));
        await(outbox.record(more.subList(10, more.size())));

        List<String> expected = new ArrayList<>(List.of("e00", "e01", "d0"));
        for (int i = 2; i < 12; i++) {
            expected.add(String.format("e%02d", i));
        }
        expected.add("d1");
        for (int i = 12; i < 25; i++) {
            expected.add(String.format("e%02d", i));
        }
        List<String> got = new ArrayList<>();
        for (Outbox.Batch b; !(b = await(outbox.nextBatch("all", 10))).isEmpty(); ) {
            assertTrue(b.deliveryIds().size() <= 10);
            got.addAll(tagsOf(b));
            await(outbox.delivered("all", b.deliveryIds()));
        }
        assertEquals(expected, got);

        List<String> deletes = new ArrayList<>();
        for (Outbox.Batch b; !(b = await(outbox.nextBatch("deletes", 10))).isEmpty(); ) {
            deletes.addAll(tagsOf(b));
            await(outbox.delivered("deletes", b.deliveryIds()));
        }
        assertEquals(List.of("d0", "d1"), deletes, "the other endpoint has its own queue");
        Outbox.Stats stats = await(outbox.stats("all"));
        assertEquals(0, stats.backlog());
        assertTrue(stats.lastSuccessAt() > 0);
        assertEquals(0, await(outbox.stats("deletes")).backlog());
    }

    /**
     * A backlog of deliveries that are all due (recorded in separate commits, never attempted, e.g. after
     * a restart or behind an endpoint that was down) goes out in batches of up to {@code max}: the README
     * promises delivery "in batches of batchSize".
     */
    @Test
    void aBacklogOfDueDeliveriesFromSeparateCommitsGoesInFullBatches() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        for (int i = 0; i < 25; i++) {
            await(outbox.record(List.of(push(String.format("s%02d", i)))));
            Thread.sleep(2); // separate commits at different times, as separate pushes are
        }
        Thread.sleep(5);
        List<Integer> sizes = new ArrayList<>();
        List<String> got = new ArrayList<>();
        for (Outbox.Batch b; !(b = await(outbox.nextBatch("ep", 10))).isEmpty(); ) {
            assertTrue(b.dueAt() <= System.currentTimeMillis(), "everything is due");
            sizes.add(b.deliveryIds().size());
            got.addAll(tagsOf(b));
            await(outbox.delivered("ep", b.deliveryIds()));
        }
        assertEquals(25, got.size());
        assertEquals(List.of(10, 10, 5), sizes, "batch sizes for 25 due deliveries with max 10");
    }

    @Test
    void aFailedHeadIsRetriedBeforeLaterEventsAndParkedAfterMaxAttempts() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        await(outbox.record(List.of(push("a"), push("b"), push("c"))));

        Outbox.Batch head = await(outbox.nextBatch("ep", 1));
        assertEquals(List.of("a"), tagsOf(head));
        long retryAt = System.currentTimeMillis() + 60_000;
        await(outbox.failed("ep", head.deliveryIds(), "boom", retryAt, 3));

        // The head now waits, and later events (due earlier) do not overtake it: they ride along behind it.
        Outbox.Batch next = await(outbox.nextBatch("ep", 10));
        assertEquals(List.of("a", "b", "c"), tagsOf(next));
        assertEquals(retryAt, next.dueAt(), "the batch is due when its head is");
        assertEquals(List.of(1, 0, 0), next.attempts());

        await(outbox.failed("ep", List.of(head.deliveryIds().get(0)), "boom", retryAt, 3));
        assertEquals(Delivery.PENDING, delivery(head.deliveryIds().get(0)).status(), "2 of 3 attempts");
        await(outbox.failed("ep", List.of(head.deliveryIds().get(0)), "boom 3", retryAt, 3));
        Delivery parked = delivery(head.deliveryIds().get(0));
        assertEquals(Delivery.FAILED, parked.status(), "parked after 3 attempts");
        assertEquals(3, parked.attempts());
        assertEquals("boom 3", parked.lastError());

        Outbox.Batch rest = await(outbox.nextBatch("ep", 10));
        assertEquals(List.of("b", "c"), tagsOf(rest), "a parked delivery no longer holds up the queue");
        Outbox.Stats stats = await(outbox.stats("ep"));
        assertEquals(2, stats.backlog());
        assertEquals(1, stats.failed());
        assertEquals("boom 3", stats.lastError());
        assertTrue(stats.lastErrorAt() > 0);
    }

    @Test
    void redeliverPutsAParkedDeliveryBackAndWakesTheEndpoint() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        List<Set<String>> wakes = Collections.synchronizedList(new ArrayList<>());
        outbox.onRecorded(wakes::add);
        await(outbox.record(List.of(push("a"), push("b"))));
        Outbox.Batch batch = await(outbox.nextBatch("ep", 10));
        long a = batch.deliveryIds().get(0);
        await(outbox.failed("ep", List.of(a), "boom", System.currentTimeMillis() + 60_000, 1));
        await(outbox.delivered("ep", List.of(batch.deliveryIds().get(1))));
        assertEquals(Delivery.FAILED, delivery(a).status());
        assertTrue(await(outbox.nextBatch("ep", 10)).isEmpty());

        wakes.clear();
        assertEquals(Optional.of("ep"), await(outbox.redeliver(a)));
        WebhookDurabilityTest.awaitTrue(() -> wakes.contains(Set.of("ep")), "the endpoint is woken");
        Delivery d = delivery(a);
        assertEquals(Delivery.PENDING, d.status());
        assertEquals(0, d.attempts(), "fresh attempts");
        Outbox.Batch again = await(outbox.nextBatch("ep", 10));
        assertEquals(List.of("a"), tagsOf(again));
        assertTrue(again.dueAt() <= System.currentTimeMillis(), "due now");

        assertEquals(Optional.empty(), await(outbox.redeliver(987_654)));
    }

    // ------------------------------------------------------------------ clean-up

    @Test
    void cleanUpKeepsEventsStillNeededByADeliveryOrASubscriber() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("deletes", DELETES));
        EventFeed feed = new EventFeed(vertx, db, outbox);
        List<String> handled = Collections.synchronizedList(new ArrayList<>());
        await(feed.subscribe("sub", PUSHES, e -> {
            handled.add(e.target().tag());
            // "stall" is never finished: the subscriber's cursor stays before it
            return e.target().tag().equals("stall") ? Promise.<Void>promise().future() : Future.succeededFuture();
        }));

        await(outbox.record(List.of(delete("pending"), delete("delivered"), delete("parked"))));
        Outbox.Batch batch = await(outbox.nextBatch("deletes", 10));
        assertEquals(List.of("pending", "delivered", "parked"), tagsOf(batch));
        await(outbox.delivered("deletes", List.of(batch.deliveryIds().get(1))));
        await(outbox.failed("deletes", List.of(batch.deliveryIds().get(2)), "boom", 0, 1));
        await(outbox.record(List.of(push("handled"))));
        await(outbox.record(List.of(push("stall"))));
        await(outbox.record(List.of(push("after"))));
        WebhookDurabilityTest.awaitTrue(() -> handled.contains("stall"), "the subscriber reaches 'stall'");
        Thread.sleep(200);
        assertEquals(List.of("handled", "stall"), handled);

        // Nothing is old enough yet.
        assertEquals(0, await(outbox.cleanUp(0)));
        assertEquals(6, count("SELECT COUNT(*) FROM notify_event"));

        int removed = await(outbox.cleanUp(System.currentTimeMillis() + 60_000));
        assertEquals(Set.of("pending", "parked", "stall", "after"), storedEventTags(),
                "kept: events with a pending or parked delivery, and events the subscriber has not finished");
        assertEquals(2, removed, "removed: the delivered one and the one the subscriber finished");
        assertEquals(0, count("SELECT COUNT(*) FROM notify_delivery WHERE status = 'delivered'"));
        assertEquals(2, count("SELECT COUNT(*) FROM notify_delivery"));
    }

    // ------------------------------------------------------------------ the feed's cursor

    @Test
    void aSubscriberResumesFromItsCursorWhenSubscribingAgain() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of());
        EventFeed feed = new EventFeed(vertx, db, outbox);
        List<String> first = Collections.synchronizedList(new ArrayList<>());
        EventFeed.Subscription s = await(feed.subscribe("deployer", PUSHES, e -> {
            first.add(e.target().tag());
            return e.target().tag().equals("r2") ? Future.failedFuture("not now") : Future.succeededFuture();
        }));
        await(outbox.record(List.of(push("r1"), push("r2"), push("r3"))));
        WebhookDurabilityTest.awaitTrue(() -> first.contains("r2"), "r2 is handed over");
        s.stop();
        long cursor = s.cursor();
        assertTrue(cursor > 0, "r1 moved the cursor");
        db.close();

        // As after a restart: a new database connection, outbox and feed; the same subscriber name.
        db = openDatabase();
        assertEquals(cursor, count("SELECT cursor FROM notify_subscription WHERE name = 'deployer'"),
                "the cursor the subscriber had is the one stored");
        Outbox outbox2 = new Outbox(vertx, db, Map.of());
        EventFeed feed2 = new EventFeed(vertx, db, outbox2);
        List<String> second = Collections.synchronizedList(new ArrayList<>());
        EventFeed.Subscription s2 = await(feed2.subscribe("deployer", PUSHES, e -> {
            second.add(e.target().tag());
            return Future.succeededFuture();
        }));
        // (s2.cursor() may already have moved past r2 here: the subscription runs once subscribed.)
        WebhookDurabilityTest.awaitTrue(() -> second.contains("r3"), "r2 and r3 are handed over again");
        assertEquals(List.of("r2", "r3"), second);
    }

    @Test
    void aSubscriberSeenForTheFirstTimeStartsAtTheEndOfTheLog() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of("ep", EventFilter.all()));
        EventFeed feed = new EventFeed(vertx, db, outbox);
        await(outbox.record(List.of(push("old1"), push("old2"))));
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        EventFeed.Subscription s = await(feed.subscribe("new", PUSHES, e -> {
            got.add(e.target().tag());
            return Future.succeededFuture();
        }));
        assertEquals(count("SELECT MAX(seq) FROM notify_event"), s.cursor());
        await(outbox.record(List.of(delete("skipped"), push("new1"))));
        WebhookDurabilityTest.awaitTrue(() -> got.contains("new1"), "new1 is handed over");
        Thread.sleep(200);
        assertEquals(List.of("new1"), got, "only events after subscribing, and only matching ones");
    }

    @Test
    void anUnreadableStoredEventIsSkippedAndEventsNobodyWantsStillMoveTheStoredCursor() throws Exception {
        Outbox outbox = new Outbox(vertx, db, Map.of());
        EventFeed feed = new EventFeed(vertx, db, outbox);
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        EventFeed.Subscription s = await(feed.subscribe("deployer", PUSHES, e -> {
            got.add(e.target().tag());
            return Future.succeededFuture();
        }));
        // A row no reader can parse (a damaged or foreign payload), then a matching event after it.
        db.transactionBlocking(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO notify_event (id, created_at, action, payload)"
                    + " VALUES ('bogus', 0, 'push', '{not json')")) {
                return p.executeUpdate();
            }
        });
        await(outbox.record(List.of(push("after-bogus"))));
        WebhookDurabilityTest.awaitTrue(() -> got.contains("after-bogus"), "the event after the unreadable one");
        assertEquals(List.of("after-bogus"), got);

        // Only events the subscriber's filter skips: the stored cursor still reaches the end of the log.
        await(outbox.record(List.of(delete("d1"), delete("d2"), delete("d3"))));
        long end = count("SELECT MAX(seq) FROM notify_event");
        WebhookDurabilityTest.awaitTrue(() -> {
            try {
                return count("SELECT cursor FROM notify_subscription WHERE name = 'deployer'") == end;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "the stored cursor passes the skipped events");
        assertEquals(end, s.cursor());
        assertEquals(List.of("after-bogus"), got, "no skipped event handed over");
    }

    // ------------------------------------------------------------------ helpers

    private static Event push(String tag) {
        return event(Event.PUSH, tag, MANIFEST);
    }

    private static Event delete(String tag) {
        return event(Event.DELETE, tag, null);
    }

    private static Event event(String action, String tag, String mediaType) {
        return new Event(UUID.randomUUID().toString(), Instant.now().toString(), action,
                new Event.Target(mediaType, 1L, "sha256:" + "0".repeat(64), 1L, "outbox/test", null, null, tag, null),
                null, null, null);
    }

    private static List<String> tagsOf(Outbox.Batch batch) {
        return batch.eventsJson().stream().map(j -> EventJson.fromJson(j).target().tag()).toList();
    }

    private Delivery delivery(long id) {
        return await(new Outbox(vertx, db, Map.of()).deliveries(Optional.empty(), Optional.empty(), Optional.empty(), 10_000))
                .stream().filter(d -> d.id() == id).findFirst().orElseThrow();
    }

    private long count(String sql) throws Exception {
        return db.transactionBlocking(c -> {
            try (PreparedStatement p = c.prepareStatement(sql); ResultSet rs = p.executeQuery()) {
                assertTrue(rs.next());
                return rs.getLong(1);
            }
        });
    }

    private Set<String> storedEventTags() throws Exception {
        return db.transactionBlocking(c -> {
            Set<String> tags = new HashSet<>();
            try (PreparedStatement p = c.prepareStatement("SELECT tag FROM notify_event");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    tags.add(rs.getString(1));
                }
            }
            return tags;
        });
    }

    private static <T> T await(Future<T> future) {
        return WebhookDurabilityTest.get(future);
    }
}
