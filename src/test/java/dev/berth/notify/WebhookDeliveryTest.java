package dev.berth.notify;

import static dev.berth.testing.Fixtures.DOCKER_MANIFEST;
import static dev.berth.testing.Fixtures.OCI_CONFIG;
import static dev.berth.testing.Fixtures.OCI_LAYER;
import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.descriptor;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.json;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import dev.berth.testing.WebhookReceiver;
import dev.berth.testing.WebhookReceiver.Received;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Push webhooks end to end: a real Berth server configured from a YAML file, a real HTTP receiver
 * (the JDK's server), and registry requests over HTTP. Checks what arrives (envelope, signature,
 * headers, every field of every event against what the registry did), which endpoint gets what
 * (filters), batching, retries and parking, redelivery, and the operator API's answers to bad input.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WebhookDeliveryTest {
    private static final String ENVELOPE_TYPE = "application/vnd.docker.distribution.events.v2+json";
    private static final String BLOB_TYPE = "application/octet-stream";
    private static final String USER_AGENT = "whd-it/1.0 (webhook-delivery-test " + UUID.randomUUID() + ")";
    private static final String SECRET = "s3cr3t-" + UUID.randomUUID();
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------
    // 1. Envelope, signature, headers and the fields of every kind of event

    @Test
    void everyActionArrivesAsASignedEnvelopeDescribingWhatTheRegistryDid() throws Exception {
        Instant testStart = Instant.now();
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = config("""
                    - name: hook
                      url: "%s"
                      secret: "%s"
                      headers:
                        X-Whd-Token: "token-42"
                        X-Whd-Env: "integration"
                      timeout: 2s
                      backoff: {initial: 50ms, max: 200ms}
                    """.formatted(receiver.url("/hook"), SECRET));
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                Feed feed = new Feed(receiver);
                String repo = "env/app";

                // A blob pushed with POST (session) + PUT: one push event, from the PUT.
                byte[] configBlob = imageConfig("amd64");
                String configDigest = pushBlobInTwoSteps(c, repo, configBlob);
                JsonObject e = feed.next("blob push (POST+PUT)");
                assertCommon(registry, e, "push", "PUT", testStart);
                assertBlobTarget(registry, e, repo, configDigest, configBlob.length);
                assertFalse(e.getJsonObject("target").containsKey("tag"), e::encodePrettily);
                assertFalse(e.getJsonObject("target").containsKey("fromRepository"), e::encodePrettily);

                // A monolithic blob push (POST ?digest= with the body): one push event, from the POST.
                byte[] layer1 = randomBytes(1500);
                String layer1Digest = pushBlobMonolithic(c, repo, layer1);
                e = feed.next("blob push (monolithic)");
                assertCommon(registry, e, "push", "POST", testStart);
                assertBlobTarget(registry, e, repo, layer1Digest, layer1.length);

                byte[] layer2 = randomBytes(2500);
                String layer2Digest = pushBlobMonolithic(c, repo, layer2);
                e = feed.next("second layer push");
                assertCommon(registry, e, "push", "POST", testStart);
                assertBlobTarget(registry, e, repo, layer2Digest, layer2.length);

                // A manifest pushed by tag.
                byte[] manifest1 = manifest(configDigest, configBlob.length, List.of(layer1Digest, layer2Digest),
                        List.of(layer1.length, layer2.length));
                String digest1 = sha256(manifest1);
                HttpResponse<byte[]> put = call(c, "PUT", "/v2/" + repo + "/manifests/v1", manifest1,
                        "Content-Type", OCI_MANIFEST);
                expect(put, 201);
                assertEquals(digest1, header(put, "Docker-Content-Digest"));
                e = feed.next("manifest push by tag");
                assertCommon(registry, e, "push", "PUT", testStart);
                assertManifestTarget(registry, e, repo, OCI_MANIFEST, manifest1, "v1",
                        List.of(configDigest, layer1Digest, layer2Digest),
                        List.of((long) configBlob.length, (long) layer1.length, (long) layer2.length),
                        List.of(OCI_CONFIG, OCI_LAYER, OCI_LAYER));

                // A manifest pushed by digest without a tag: no tag in the event.
                byte[] manifest2 = manifest(configDigest, configBlob.length, List.of(layer1Digest), List.of(layer1.length));
                String digest2 = sha256(manifest2);
                expect(call(c, "PUT", "/v2/" + repo + "/manifests/" + digest2, manifest2, "Content-Type", OCI_MANIFEST), 201);
                e = feed.next("manifest push by digest");
                assertCommon(registry, e, "push", "PUT", testStart);
                assertManifestTarget(registry, e, repo, OCI_MANIFEST, manifest2, null,
                        List.of(configDigest, layer1Digest), List.of((long) configBlob.length, (long) layer1.length),
                        List.of(OCI_CONFIG, OCI_LAYER));

                // By digest with ?tag=a&tag=b: one event per tag, both from the same request.
                byte[] manifest3 = manifest(configDigest, configBlob.length, List.of(layer2Digest), List.of(layer2.length));
                String digest3 = sha256(manifest3);
                expect(call(c, "PUT", "/v2/" + repo + "/manifests/" + digest3 + "?tag=a&tag=b", manifest3,
                        "Content-Type", OCI_MANIFEST), 201);
                List<JsonObject> tagged = feed.next(2, "manifest push by digest with two ?tag=");
                Set<String> tags = new HashSet<>();
                for (JsonObject t : tagged) {
                    assertCommon(registry, t, "push", "PUT", testStart);
                    assertManifestTarget(registry, t, repo, OCI_MANIFEST, manifest3, t.getJsonObject("target").getString("tag"),
                            List.of(configDigest, layer2Digest), List.of((long) configBlob.length, (long) layer2.length),
                            List.of(OCI_CONFIG, OCI_LAYER));
                    tags.add(t.getJsonObject("target").getString("tag"));
                }
                assertEquals(Set.of("a", "b"), tags, "one event per ?tag=");
                assertEquals(request(tagged.get(0)).getString("id"), request(tagged.get(1)).getString("id"),
                        "both events come from one request");
                assertNotEquals(tagged.get(0).getString("id"), tagged.get(1).getString("id"));

                // Pull of a manifest by tag (GET): tag set. HEAD and a 304 come first and must produce nothing.
                expect(c.head("/v2/" + repo + "/manifests/v1", "Accept", OCI_MANIFEST, "User-Agent", USER_AGENT), 200);
                expect(c.head("/v2/" + repo + "/manifests/" + digest1, "Accept", OCI_MANIFEST, "User-Agent", USER_AGENT), 200);
                expect(c.get("/v2/" + repo + "/manifests/v1", "Accept", OCI_MANIFEST, "User-Agent", USER_AGENT,
                        "If-None-Match", "\"" + digest1 + "\""), 304);
                HttpResponse<byte[]> pulled = c.get("/v2/" + repo + "/manifests/v1", "Accept", OCI_MANIFEST,
                        "User-Agent", USER_AGENT);
                expect(pulled, 200);
                assertArrayEquals(manifest1, pulled.body());
                e = feed.next("manifest pull by tag");
                assertCommon(registry, e, "pull", "GET", testStart);
                assertManifestTarget(registry, e, repo, OCI_MANIFEST, manifest1, "v1",
                        List.of(configDigest, layer1Digest, layer2Digest),
                        List.of((long) configBlob.length, (long) layer1.length, (long) layer2.length),
                        List.of(OCI_CONFIG, OCI_LAYER, OCI_LAYER));

                // Pull of a manifest by digest: no tag.
                expect(c.get("/v2/" + repo + "/manifests/" + digest1, "Accept", OCI_MANIFEST, "User-Agent", USER_AGENT,
                        "If-None-Match", "\"" + digest1 + "\""), 304);
                expect(c.get("/v2/" + repo + "/manifests/" + digest1, "Accept", OCI_MANIFEST, "User-Agent", USER_AGENT), 200);
                e = feed.next("manifest pull by digest");
                assertCommon(registry, e, "pull", "GET", testStart);
                assertManifestTarget(registry, e, repo, OCI_MANIFEST, manifest1, null,
                        List.of(configDigest, layer1Digest, layer2Digest),
                        List.of((long) configBlob.length, (long) layer1.length, (long) layer2.length),
                        List.of(OCI_CONFIG, OCI_LAYER, OCI_LAYER));

                // Pull of a blob: only the GET that sends it (HEAD and 304 first, producing nothing).
                expect(c.head("/v2/" + repo + "/blobs/" + layer1Digest, "User-Agent", USER_AGENT), 200);
                expect(c.get("/v2/" + repo + "/blobs/" + layer1Digest, "User-Agent", USER_AGENT,
                        "If-None-Match", "\"" + layer1Digest + "\""), 304);
                HttpResponse<byte[]> blob = c.get("/v2/" + repo + "/blobs/" + layer1Digest, "User-Agent", USER_AGENT);
                expect(blob, 200);
                assertArrayEquals(layer1, blob.body());
                e = feed.next("blob pull");
                assertCommon(registry, e, "pull", "GET", testStart);
                assertBlobTarget(registry, e, repo, layer1Digest, layer1.length);

                // Mount from another repository.
                String other = "env/other";
                HttpResponse<byte[]> mount = call(c, "POST", "/v2/" + other + "/blobs/uploads/?mount=" + layer1Digest
                        + "&from=" + repo, new byte[0]);
                expect(mount, 201);
                e = feed.next("cross-repository mount");
                assertCommon(registry, e, "mount", "POST", testStart);
                assertBlobTarget(registry, e, other, layer1Digest, layer1.length);
                assertEquals(repo, e.getJsonObject("target").getString("fromRepository"), e::encodePrettily);

                // Delete of a tag, of a manifest by digest, of a blob.
                expect(call(c, "DELETE", "/v2/" + repo + "/manifests/v1", null), 202);
                e = feed.next("tag delete");
                assertCommon(registry, e, "delete", "DELETE", testStart);
                assertEquals(repo, target(e).getString("repository"), e::encodePrettily);
                assertEquals("v1", target(e).getString("tag"), e::encodePrettily);

                expect(call(c, "DELETE", "/v2/" + repo + "/manifests/" + digest2, null), 202);
                e = feed.next("manifest delete by digest");
                assertCommon(registry, e, "delete", "DELETE", testStart);
                assertEquals(repo, target(e).getString("repository"), e::encodePrettily);
                assertEquals(digest2, target(e).getString("digest"), e::encodePrettily);
                assertFalse(target(e).containsKey("tag"), e::encodePrettily);

                expect(call(c, "DELETE", "/v2/" + other + "/blobs/" + layer1Digest, null), 202);
                e = feed.next("blob delete");
                assertCommon(registry, e, "delete", "DELETE", testStart);
                assertEquals(other, target(e).getString("repository"), e::encodePrettily);
                assertEquals(layer1Digest, target(e).getString("digest"), e::encodePrettily);

                // A last marker: the delete above produced nothing more than its one event.
                byte[] marker = randomBytes(64);
                String markerDigest = pushBlobMonolithic(c, "env/marker", marker);
                e = feed.next("marker push");
                assertBlobTarget(registry, e, "env/marker", markerDigest, marker.length);

                // Across all events: unique ids, one registry instance.
                List<JsonObject> all = receiver.acceptedEvents();
                assertEquals(feed.seen, all.size(), "no event beyond the expected ones");
                Set<String> ids = new HashSet<>();
                Set<String> instances = new HashSet<>();
                for (JsonObject event : all) {
                    assertTrue(ids.add(event.getString("id")), () -> "duplicate event id in " + event.encode());
                    instances.add(event.getJsonObject("source").getString("instanceID"));
                }
                assertEquals(1, instances.size(), "one instanceID for one registry: " + instances);
                // request.id names the HTTP request: shared only by the two events of the ?tag=a&tag=b push.
                Set<String> requestIds = new HashSet<>();
                all.forEach(event -> requestIds.add(request(event).getString("id")));
                assertEquals(all.size() - 1, requestIds.size(), "distinct request ids");

                // Every HTTP request: the envelope's media type, {"events":[...]}, the signature over the
                // exact body bytes, and the configured headers.
                List<Received> requests = receiver.requests();
                assertFalse(requests.isEmpty());
                for (Received r : requests) {
                    assertEquals("/hook", r.path());
                    assertEquals(ENVELOPE_TYPE, r.header("Content-Type"));
                    JsonObject body = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
                    assertEquals(Set.of("events"), body.fieldNames(), "the envelope holds only events");
                    assertFalse(body.getJsonArray("events").isEmpty(), "no empty envelope");
                    assertEquals("sha256=" + hmacSha256Hex(SECRET, r.body()), r.header("X-Berth-Signature"),
                            "signature of " + new String(r.body(), StandardCharsets.UTF_8));
                    assertEquals("token-42", r.header("X-Whd-Token"));
                    assertEquals("integration", r.header("X-Whd-Env"));
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 2. Filters

    @Test
    void eachEndpointGetsExactlyTheEventsItsFilterSelects() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = config("""
                    - name: all
                      url: "%1$s/all"
                      backoff: {initial: 50ms, max: 200ms}
                    - name: actions
                      url: "%1$s/actions"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        actions: [mount, delete]
                    - name: media
                      url: "%1$s/media"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        mediaTypes: ["%2$s"]
                    - name: team-one
                      url: "%1$s/team-one"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        repositories: ["team/*"]
                    - name: team-deep
                      url: "%1$s/team-deep"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        repositories: ["team/**"]
                    - name: by-tag
                      url: "%1$s/by-tag"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        preset: manifest-pushed-by-tag
                    - name: "muted"
                      url: "%1$s/muted"
                      disabled: true
                    """.formatted(receiver.url(""), OCI_MANIFEST));
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                // 4 events: config + 2 layers + OCI manifest by tag.
                var teamApp = pushImage(c, "team/app", "v1");
                // 3 events: config + 1 layer + Docker manifest by tag, one level deeper.
                pushImage(c, "team/sub/app", "v1", 1, true, "arm64");
                // 4 events in a repository that only looks like team/.
                var teamx = pushImage(c, "teamx/app", "v1");
                // 1 event: an OCI manifest pushed by digest, without a tag.
                byte[] untagged = manifest(teamApp.configDigest(), blobLength(c, "team/app", teamApp.configDigest()),
                        List.of(teamApp.layerDigests().get(0)),
                        List.of(blobLength(c, "team/app", teamApp.layerDigests().get(0))));
                c.pushManifest("team/app", sha256(untagged), OCI_MANIFEST, untagged);
                // 1 event: a pull by tag of an OCI manifest.
                expect(c.get("/v2/team/app/manifests/v1", "Accept", OCI_MANIFEST), 200);
                // 1 event: a mount.
                expect(c.post("/v2/other/app/blobs/uploads/?mount=" + teamApp.layerDigests().get(1) + "&from=team/app",
                        new byte[0]), 201);
                // 1 event: a tag delete.
                expect(c.delete("/v2/team/app/manifests/v1"), 202);
                // 1 event: a blob delete.
                expect(c.delete("/v2/teamx/app/blobs/" + teamx.layerDigests().get(0)), 202);
                int total = 16;

                List<JsonObject> all = waitFor("16 events at the catch-all endpoint",
                        () -> eventsAt(receiver, "/all"), l -> l.size() >= total);
                // Every delivery row exists before the registry answers; once no endpoint has a backlog,
                // every endpoint has received all it will get.
                waitFor("no backlog on any endpoint", () -> webhooks(c),
                        list -> list.stream().allMatch(w -> ((JsonObject) w).getLong("backlog") == 0));
                assertEquals(total, eventsAt(receiver, "/all").size(), "catch-all got every event once");

                assertSelected(receiver, all, "/actions", 3,
                        e -> Set.of("mount", "delete").contains(e.getString("action")));
                assertSelected(receiver, all, "/media", 4,
                        e -> OCI_MANIFEST.equals(target(e).getString("mediaType")));
                assertSelected(receiver, all, "/team-one", 7,
                        e -> "team/app".equals(target(e).getString("repository")));
                assertSelected(receiver, all, "/team-deep", 10,
                        e -> Set.of("team/app", "team/sub/app").contains(target(e).getString("repository")));
                List<JsonObject> byTag = assertSelected(receiver, all, "/by-tag", 3,
                        e -> "push".equals(e.getString("action"))
                                && Set.of(OCI_MANIFEST, DOCKER_MANIFEST).contains(target(e).getString("mediaType"))
                                && target(e).getString("tag") != null);
                assertEquals(List.of("team/app", "team/sub/app", "teamx/app"),
                        byTag.stream().map(e -> target(e).getString("repository")).toList());

                // The disabled endpoint: nothing sent, nothing queued, shown as disabled.
                assertTrue(receiver.requests().stream().noneMatch(r -> r.path().equals("/muted")), "disabled endpoint got requests");
                JsonObject off = webhook(c, "muted");
                assertEquals(Boolean.TRUE, off.getBoolean("disabled"), off::encode);
                assertEquals(0L, off.getLong("backlog"), off::encode);
                assertEquals(0L, off.getLong("failed"), off::encode);
                assertEquals(0, deliveries(c, "?endpoint=muted").size(), "no delivery rows for a disabled endpoint");
                for (Object o : webhooks(c)) {
                    JsonObject w = (JsonObject) o;
                    assertEquals(0L, w.getLong("failed"), w::encode);
                    if (!w.getString("name").equals("muted")) {
                        assertEquals(Boolean.FALSE, w.getBoolean("disabled"), w::encode);
                    }
                }
            }
        }
    }

    @Test
    void anEventNoEndpointWantsLeavesNothingInTheOutbox() throws Exception {
        Path storage;
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = config("""
                    - name: kept-pushes
                      url: "%1$s/kept"
                      backoff: {initial: 50ms, max: 200ms}
                      filter:
                        actions: [push]
                        repositories: ["kept/**"]
                    - name: "muted"
                      url: "%1$s/muted"
                      disabled: true
                    """.formatted(receiver.url("")));
            try (TestRegistry registry = start(config)) {
                storage = registry.storage();
                RegistryClient c = registry.client();
                byte[] first = randomBytes(300);
                String firstDigest = c.pushBlob("kept/app", first);          // wanted
                String droppedDigest = c.pushBlob("dropped/app", randomBytes(301)); // wrong repository
                expect(c.get("/v2/kept/app/blobs/" + firstDigest), 200);      // wrong action
                expect(c.delete("/v2/dropped/app/blobs/" + droppedDigest), 202); // neither
                String secondDigest = c.pushBlob("kept/app", randomBytes(302)); // wanted

                List<JsonObject> got = waitFor("the two wanted pushes", () -> eventsAt(receiver, "/kept"), l -> l.size() >= 2);
                waitFor("no backlog", () -> webhook(c, "kept-pushes"), w -> w.getLong("backlog") == 0);
                assertEquals(List.of(firstDigest, secondDigest), got.stream().map(e -> target(e).getString("digest")).toList());
                assertEquals(2, eventsAt(receiver, "/kept").size());
                assertTrue(receiver.requests().stream().noneMatch(r -> r.path().equals("/muted")));

                JsonArray rows = deliveries(c, "?limit=1000");
                assertEquals(2, rows.size(), rows::encodePrettily);
                for (Object o : rows) {
                    JsonObject row = (JsonObject) o;
                    assertEquals("kept-pushes", row.getString("endpoint"), row::encode);
                    assertEquals("delivered", row.getString("status"), row::encode);
                    JsonObject event = row.getJsonObject("event");
                    assertEquals("push", event.getString("action"), row::encode);
                    assertEquals("kept/app", event.getString("repository"), row::encode);
                    assertNotEquals(droppedDigest, event.getString("digest"), row::encode);
                }
            }
        }
        // The outbox itself (read after the server has closed it): only the two wanted events were
        // stored; the pull, the dropped push and the delete never were, not even without a delivery.
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + storage.resolve("state.db"));
             Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(action = 'push' AND repository = 'kept/app') FROM notify_event")) {
            assertTrue(rs.next());
            assertEquals(2, rs.getInt(1), "events stored in the outbox");
            assertEquals(2, rs.getInt(2), "only the wanted ones");
        }
    }

    // ------------------------------------------------------------------------------------------
    // 3. Batching

    @Test
    void aBacklogBuiltWhileTheReceiverIsDownArrivesInOrderInBatchesOfAtMostBatchSize() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.notListening()) {
            Path config = config("""
                    - name: batched
                      url: "%s"
                      timeout: 1s
                      batchSize: 5
                      maxAttempts: 1000
                      backoff: {initial: 50ms, max: 200ms}
                    """.formatted(receiver.url("/batched")));
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                List<String> pushed = new ArrayList<>();
                for (int i = 0; i < 12; i++) {
                    pushed.add(pushBlobMonolithic(c, "batch/app", ("blob number " + i + " " + UUID.randomUUID())
                            .getBytes(StandardCharsets.UTF_8)));
                }
                Instant allRecorded = Instant.now();
                // Let the dispatcher fail against the closed port for a while after the last event.
                JsonObject down = waitFor("failed attempts after the 12th event", () -> webhook(c, "batched"),
                        w -> w.getString("lastErrorAt") != null
                                && Instant.parse(w.getString("lastErrorAt")).isAfter(allRecorded.plusMillis(300)));
                assertEquals(12L, down.getLong("backlog"), down::encode);
                assertEquals(0L, down.getLong("failed"), down::encode);
                assertNull(down.getString("lastSuccessAt"), down::encode);
                assertTrue(receiver.requests().isEmpty());

                receiver.listen();
                List<JsonObject> events = waitFor("the 12 events", receiver::acceptedEvents, l -> l.size() >= 12);
                waitFor("no backlog", () -> webhook(c, "batched"), w -> w.getLong("backlog") == 0);
                events = receiver.acceptedEvents();

                assertEquals(pushed, events.stream().map(e -> target(e).getString("digest")).toList(),
                        "every event once, in the order the registry produced them");
                List<Integer> sizes = receiver.requests().stream().map(r -> r.events().size()).toList();
                assertTrue(sizes.stream().allMatch(n -> n >= 1 && n <= 5), "batch sizes " + sizes);
                assertEquals(12, deliveries(c, "?endpoint=batched&status=delivered").size());
                // Twelve events, all due by the time the receiver is back, batchSize 5: three requests.
                assertEquals(List.of(5, 5, 2), sizes, "requests carrying the backlog");
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 4. Retries, parking, order after a parked delivery, redelivery

    @Test
    void aDeliveryThatKeepsFailingIsParkedLaterEventsFollowAndRedeliveryWorks() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            receiver.answerWith(500);
            Path config = config("""
                    - name: flaky
                      url: "%s"
                      timeout: 1s
                      maxAttempts: 3
                      backoff: {initial: 50ms, max: 200ms}
                    """.formatted(receiver.url("/flaky")));
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                String d1 = pushBlobMonolithic(c, "fail/app", randomBytes(111));

                JsonArray failed = waitFor("the first event parked", () -> deliveries(c, "?endpoint=flaky&status=failed"),
                        l -> l.size() >= 1);
                assertEquals(1, failed.size(), failed::encodePrettily);
                JsonObject parked = failed.getJsonObject(0);
                assertEquals("flaky", parked.getString("endpoint"));
                assertEquals("failed", parked.getString("status"));
                assertEquals(3, parked.getInteger("attempts"), parked::encode);
                assertTrue(parked.getString("lastError", "").contains("500"), parked::encode);
                assertNotNull(parked.getString("lastAttemptAt"), parked::encode);
                Instant.parse(parked.getString("lastAttemptAt"));
                assertNull(parked.getString("deliveredAt"), parked::encode);
                assertEquals(d1, parked.getJsonObject("event").getString("digest"), parked::encode);
                assertEquals("push", parked.getJsonObject("event").getString("action"), parked::encode);
                assertEquals("fail/app", parked.getJsonObject("event").getString("repository"), parked::encode);
                String e1 = parked.getJsonObject("event").getString("id");
                long id1 = parked.getLong("id");

                // Exactly maxAttempts requests, each carrying that event, each answered 500.
                List<Received> tries = receiver.requests();
                assertEquals(3, tries.size(), "attempts at the receiver");
                for (Received r : tries) {
                    assertEquals(500, r.answeredWith());
                    assertEquals(List.of(e1), eventIds(r));
                }

                JsonObject health = webhook(c, "flaky");
                assertEquals(1L, health.getLong("failed"), health::encode);
                assertEquals(0L, health.getLong("backlog"), health::encode);
                assertTrue(health.getString("lastError", "").contains("500"), health::encode);
                assertNotNull(health.getString("lastErrorAt"), health::encode);
                Instant.parse(health.getString("lastErrorAt"));
                assertNull(health.getString("lastSuccessAt"), health::encode);

                // The queue moves on past a parked delivery: a later event is attempted (and parked) next.
                String d2 = pushBlobMonolithic(c, "fail/app", randomBytes(222));
                JsonArray failedNow = waitFor("the second event parked", () -> deliveries(c, "?endpoint=flaky&status=failed"),
                        l -> l.size() >= 2);
                assertEquals(2, failedNow.size(), failedNow::encodePrettily);
                String e2 = failedNow.stream().map(o -> ((JsonObject) o).getJsonObject("event"))
                        .filter(ev -> d2.equals(ev.getString("digest"))).findFirst().orElseThrow().getString("id");
                tries = receiver.requests();
                assertEquals(6, tries.size(), "attempts at the receiver");
                for (int i = 3; i < 6; i++) {
                    assertEquals(List.of(e2), eventIds(tries.get(i)), "attempt " + i + " carries the later event only");
                }

                // Receiver fixed: new events are delivered; parked ones stay parked until redelivered.
                receiver.answerWith(200);
                String d3 = pushBlobMonolithic(c, "fail/app", randomBytes(333));
                waitFor("the third event", receiver::acceptedEvents, l -> l.size() >= 1);
                waitFor("no backlog", () -> webhook(c, "flaky"), w -> w.getLong("backlog") == 0);
                assertEquals(List.of(d3), receiver.acceptedEvents().stream().map(e -> target(e).getString("digest")).toList());

                HttpResponse<byte[]> redeliver = c.post("/api/webhooks/deliveries/" + id1 + "/redeliver", new byte[0]);
                assertEquals(202, redeliver.statusCode(), () -> new String(redeliver.body(), StandardCharsets.UTF_8));
                JsonObject answer = json(redeliver);
                assertEquals(id1, answer.getLong("id"), answer::encode);
                assertEquals("flaky", answer.getString("endpoint"), answer::encode);
                assertEquals("pending", answer.getString("status"), answer::encode);

                List<JsonObject> accepted = waitFor("the redelivered event", receiver::acceptedEvents, l -> l.size() >= 2);
                assertEquals(List.of(d3, d1), accepted.stream().map(e -> target(e).getString("digest")).toList());
                assertEquals(e1, accepted.get(1).getString("id"), "the same event, not a copy");

                JsonObject row = waitFor("delivery row delivered", () -> delivery(c, "flaky", id1),
                        r -> "delivered".equals(r.getString("status")));
                assertEquals(1, row.getInteger("attempts"), row::encode);
                assertNotNull(row.getString("deliveredAt"), row::encode);
                assertNull(row.getString("lastError"), row::encode);

                JsonObject after = waitFor("no backlog", () -> webhook(c, "flaky"), w -> w.getLong("backlog") == 0);
                assertNotNull(after.getString("lastSuccessAt"), after::encode);
                Instant.parse(after.getString("lastSuccessAt"));
                assertEquals(1L, after.getLong("failed"), "the second event is still parked: " + after.encode());
                assertEquals(1, deliveries(c, "?endpoint=flaky&status=failed").size());
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 5. The operator API's answers to bad input

    @Test
    void theWebhookApiRejectsBadInputWithJsonErrorsNamingTheField() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = oneEndpoint(receiver, "only");
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                pushBlobMonolithic(c, "api/app", randomBytes(10));
                waitFor("one delivery", receiver::acceptedEvents, l -> l.size() >= 1);
                // The receiver answers before the dispatcher marks the row delivered: wait for the row.
                waitFor("the row marked delivered", () -> deliveries(c, "?endpoint=only&status=delivered"), l -> l.size() == 1);

                // Valid requests work (so the refusals below are about the bad value alone).
                HttpResponse<byte[]> ok = c.get("/api/webhooks/deliveries?endpoint=only&status=delivered&limit=1000");
                assertEquals(200, ok.statusCode());
                assertEquals(1, json(ok).getJsonArray("deliveries").size(), () -> new String(ok.body(), StandardCharsets.UTF_8));
                assertEquals(200, c.get("/api/webhooks/deliveries?limit=1").statusCode());
                assertEquals(200, c.get("/api/webhooks").statusCode());

                assertApiError(c.get("/api/webhooks/deliveries?endpoint=nope"), 400, "InvalidParameter", "endpoint");
                assertApiError(c.get("/api/webhooks/deliveries?status=bogus"), 400, "InvalidParameter", "status");
                assertApiError(c.get("/api/webhooks/deliveries?limit=0"), 400, "InvalidParameter", "limit");
                assertApiError(c.get("/api/webhooks/deliveries?limit=abc"), 400, "InvalidParameter", "limit");
                assertApiError(c.get("/api/webhooks/deliveries?limit=-3"), 400, "InvalidParameter", "limit");
                assertApiError(c.get("/api/webhooks/deliveries?endpoint=only&limit=1001"), 400, "InvalidParameter", "limit");
                assertApiError(c.post("/api/webhooks/deliveries/abc/redeliver", new byte[0]), 400, "InvalidParameter", "id");
                assertApiError(c.post("/api/webhooks/deliveries/987654321/redeliver", new byte[0]), 404, "NotFound", null);
                JsonObject unknown = assertApiError(c.get("/api/no-such-thing"), 404, "NotFound", null);
                assertFalse(unknown.containsKey("field"), unknown::encode);
                assertApiError(c.get("/api/webhooks/nope"), 404, "NotFound", null);

                // Refused requests changed nothing.
                assertEquals(1, deliveries(c, "?endpoint=only&status=delivered").size());
                assertEquals(1, receiver.requests().size());
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 6. Deleting a tagged manifest reports the tags that go with it

    @Test
    void deletingATaggedManifestReportsTheManifestAndEachTagItTook() throws Exception {
        Instant testStart = Instant.now();
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = oneEndpoint(receiver, "hook");
            try (TestRegistry registry = start(config)) {
                RegistryClient c = registry.client();
                Feed feed = new Feed(receiver);
                String repo = "del/app";
                byte[] configBlob = imageConfig("arm64");
                String configDigest = pushBlobMonolithic(c, repo, configBlob);
                byte[] layer = randomBytes(700);
                String layerDigest = pushBlobMonolithic(c, repo, layer);
                feed.next(2, "the two blob pushes");
                byte[] m = manifest(configDigest, configBlob.length, List.of(layerDigest), List.of(layer.length));
                String digest = sha256(m);
                expect(call(c, "PUT", "/v2/" + repo + "/manifests/" + digest + "?tag=one&tag=two", m,
                        "Content-Type", OCI_MANIFEST), 201);
                feed.next(2, "the manifest push with two tags");

                expect(call(c, "DELETE", "/v2/" + repo + "/manifests/" + digest, null), 202);
                List<JsonObject> deleted = feed.next(3, "the manifest delete and its two tag deletes");
                JsonObject manifestDelete = deleted.get(0);
                assertCommon(registry, manifestDelete, "delete", "DELETE", testStart);
                assertEquals(digest, target(manifestDelete).getString("digest"), manifestDelete::encodePrettily);
                assertFalse(target(manifestDelete).containsKey("tag"), manifestDelete::encodePrettily);
                Set<String> tags = new HashSet<>();
                for (JsonObject e : deleted.subList(1, 3)) {
                    assertCommon(registry, e, "delete", "DELETE", testStart);
                    assertEquals(repo, target(e).getString("repository"), e::encodePrettily);
                    assertFalse(target(e).containsKey("digest"), e::encodePrettily);
                    tags.add(target(e).getString("tag"));
                    assertEquals(request(manifestDelete).getString("id"), request(e).getString("id"),
                            "one request caused all three");
                }
                assertEquals(Set.of("one", "two"), tags);
                expect(c.get("/v2/" + repo + "/manifests/one", "Accept", OCI_MANIFEST), 404);

                // A second delete finds nothing and reports nothing.
                expect(call(c, "DELETE", "/v2/" + repo + "/manifests/" + digest, null), 404);
                String marker = pushBlobMonolithic(c, "del/marker", randomBytes(32));
                assertEquals(marker, target(feed.next("marker")).getString("digest"));
                assertEquals(feed.seen, receiver.acceptedEvents().size(), "nothing beyond the expected events");
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 7. Events follow the order of the changes, even when requests race

    @Test
    void theLastEventForATagDescribesWhereTheTagEndedUpWhenPushesAndDeletesRace() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Path config = config("""
                    - name: hook
                      url: "%s"
                      batchSize: 100
                      backoff: {initial: 50ms, max: 200ms}
                    """.formatted(receiver.url("/hook")));
            try (TestRegistry registry = start(config)) {
                RegistryClient setup = registry.client();
                String repo = "race/app";
                byte[] configBlob = imageConfig("amd64");
                String configDigest = pushBlobMonolithic(setup, repo, configBlob);
                List<byte[]> manifests = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    byte[] layer = ("layer " + i + " " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
                    String layerDigest = pushBlobMonolithic(setup, repo, layer);
                    manifests.add(manifest(configDigest, configBlob.length, List.of(layerDigest), List.of(layer.length)));
                }
                // Four clients at once: three push their own manifest to tag t, one alternates pushes
                // and deletes of t. Whatever order the registry applied them in, the outbox must agree.
                for (int round = 0; round < 3; round++) {
                    List<Thread> threads = new ArrayList<>();
                    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
                    for (int t = 0; t < 4; t++) {
                        byte[] mine = manifests.get(t);
                        boolean deleter = t == 3;
                        threads.add(new Thread(() -> {
                            RegistryClient c = registry.client();
                            try {
                                for (int i = 0; i < 20; i++) {
                                    if (deleter && i % 2 == 1) {
                                        int code = call(c, "DELETE", "/v2/" + repo + "/manifests/t", null).statusCode();
                                        assertTrue(code == 202 || code == 404, "tag delete answered " + code);
                                    } else {
                                        expect(call(c, "PUT", "/v2/" + repo + "/manifests/t", mine,
                                                "Content-Type", OCI_MANIFEST), 201);
                                    }
                                }
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        }));
                    }
                    threads.forEach(Thread::start);
                    for (Thread t : threads) {
                        t.join();
                    }
                    assertTrue(failures.isEmpty(), () -> "client failures: " + failures);

                    HttpResponse<byte[]> now = setup.head("/v2/" + repo + "/manifests/t", "Accept", OCI_MANIFEST);
                    String expected = now.statusCode() == 200 ? header(now, "Docker-Content-Digest") : null;
                    // Drained: the marker (pushed last) has arrived, so every earlier event has too.
                    String markerTag = "marker-" + round;
                    expect(call(setup, "PUT", "/v2/" + repo + "/manifests/" + markerTag, manifests.get(0),
                            "Content-Type", OCI_MANIFEST), 201);
                    List<JsonObject> events = waitFor("the marker of round " + round, receiver::acceptedEvents,
                            l -> l.stream().anyMatch(e -> markerTag.equals(target(e).getString("tag"))));
                    // Replayed in outbox order, the events must be a possible history: a delete (only
                    // recorded when the tag existed) never follows another delete without a push between.
                    JsonObject last = null;
                    for (JsonObject e : events) {
                        if ("t".equals(target(e).getString("tag"))) {
                            boolean deletedBefore = last != null && "delete".equals(last.getString("action"));
                            assertFalse(deletedBefore && "delete".equals(e.getString("action")),
                                    () -> "two deletes of t in a row, the second " + e.encode());
                            last = e;
                        }
                    }
                    assertNotNull(last, "events for tag t");
                    JsonObject lastEvent = last;
                    if (expected == null) {
                        assertEquals("delete", last.getString("action"),
                                () -> "tag t is gone, but the last event for it is " + lastEvent.encode());
                    } else {
                        assertEquals("push", last.getString("action"),
                                () -> "tag t is at " + expected + ", but the last event for it is " + lastEvent.encode());
                        assertEquals(expected, target(last).getString("digest"), last::encodePrettily);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // 8. Paging, redacted URLs, answers below 400, and redelivery that nothing would send

    @Test
    void theApiPagesBackHidesUrlSecretsAndRefusesRedeliveryNothingWouldSend() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
             WebhookReceiver moved = WebhookReceiver.start();
             WebhookReceiver broken = WebhookReceiver.start()) {
            moved.answerWith(302);
            broken.answerWith(500);
            String endpoints = """
                    - name: live
                      url: "%s"
                      backoff: {initial: 50ms, max: 200ms}
                    - name: moved
                      url: "%s"
                      backoff: {initial: 50ms, max: 200ms}
                    - name: secretive
                      url: "http://hookuser:hookpass@127.0.0.1:%d/in?token=tok3n#frag"
                      disabled: true
                    """.formatted(receiver.url("/live"), moved.url("/moved"), broken.port());
            String flaky = """
                    - name: flaky
                      url: "%s"
                      maxAttempts: 1
                      backoff: {initial: 50ms, max: 200ms}
                    """.formatted(broken.url("/flaky"));
            Path storage = Files.createTempDirectory(dir, "storage-");
            long parkedId;
            try (TestRegistry registry = start(storage, config(endpoints + flaky))) {
                RegistryClient c = registry.client();
                for (int i = 0; i < 5; i++) {
                    pushBlobMonolithic(c, "page/app", randomBytes(50 + i));
                }
                waitFor("five events at live", receiver::acceptedEvents, l -> l.size() >= 5);
                waitFor("nothing pending", () -> webhooks(c).stream().map(o -> (JsonObject) o)
                        .filter(w -> !w.getBoolean("disabled")).mapToLong(w -> w.getLong("backlog")).sum(), n -> n == 0);

                // Any answer below 400 is a delivery: 302 delivered on the first attempt.
                JsonArray movedRows = deliveries(c, "?endpoint=moved");
                assertEquals(5, movedRows.size(), movedRows::encodePrettily);
                for (Object o : movedRows) {
                    JsonObject row = (JsonObject) o;
                    assertEquals("delivered", row.getString("status"), row::encode);
                    assertEquals(1, row.getInteger("attempts"), row::encode);
                }
                assertEquals(5, moved.requests().stream().mapToInt(r -> r.events().size()).sum());

                // Paging back: newest first, ?before= the last id seen, until an empty page.
                JsonArray all = deliveries(c, "?endpoint=live");
                assertEquals(5, all.size());
                List<Long> paged = new ArrayList<>();
                String query = "?endpoint=live&limit=2";
                for (int page = 0; page < 10; page++) {
                    JsonArray rows = deliveries(c, query);
                    assertTrue(rows.size() <= 2, rows::encode);
                    if (rows.isEmpty()) {
                        break;
                    }
                    rows.forEach(o -> paged.add(((JsonObject) o).getLong("id")));
                    query = "?endpoint=live&limit=2&before=" + paged.get(paged.size() - 1);
                }
                List<Long> ids = all.stream().map(o -> ((JsonObject) o).getLong("id")).toList();
                assertEquals(ids, paged, "pages joined are the whole list");
                List<Long> descending = new ArrayList<>(ids);
                descending.sort(java.util.Comparator.reverseOrder());
                assertEquals(descending, ids, "newest first");

                // Empty parameters count as absent.
                assertEquals(deliveries(c, "").size(), deliveries(c, "?endpoint=&status=&limit=&before=").size());
                assertApiError(c.get("/api/webhooks/deliveries?before=0"), 400, "InvalidParameter", "before");
                assertApiError(c.get("/api/webhooks/deliveries?before=soon"), 400, "InvalidParameter", "before");

                // Credentials and the query of an endpoint URL are not shown.
                HttpResponse<byte[]> list = c.get("/api/webhooks");
                String body = new String(list.body(), StandardCharsets.UTF_8);
                assertFalse(body.contains("hookpass") || body.contains("hookuser") || body.contains("tok3n"), body);
                assertEquals("http://127.0.0.1:" + broken.port() + "/in?…", webhook(c, "secretive").getString("url"));
                assertEquals(receiver.url("/live"), webhook(c, "live").getString("url"));

                JsonArray parked = waitFor("flaky's deliveries parked", () -> deliveries(c, "?endpoint=flaky&status=failed"),
                        l -> l.size() >= 5);
                parkedId = parked.getJsonObject(0).getLong("id");
            }

            // Restarted with flaky disabled: its parked delivery would never be sent, so redelivery is refused.
            String flakyDisabled = flaky + "  disabled: true\n";
            try (TestRegistry registry = start(storage, config(endpoints + flakyDisabled))) {
                RegistryClient c = registry.client();
                assertTrue(webhook(c, "flaky").getBoolean("disabled"));
                JsonObject error = assertApiError(c.post("/api/webhooks/deliveries/" + parkedId + "/redeliver", new byte[0]),
                        409, "EndpointInactive", "id");
                assertTrue(error.getString("message").contains("flaky"), error::encode);
                assertEquals("failed", delivery(c, "flaky", parkedId).getString("status"), "unchanged");
            }
            // Restarted without flaky at all: the same answer, and the row is still there, still failed.
            try (TestRegistry registry = start(storage, config(endpoints))) {
                RegistryClient c = registry.client();
                assertApiError(c.post("/api/webhooks/deliveries/" + parkedId + "/redeliver", new byte[0]),
                        409, "EndpointInactive", "id");
                JsonObject row = deliveries(c, "?status=failed&limit=1000").stream().map(o -> (JsonObject) o)
                        .filter(d -> d.getLong("id") == parkedId).findFirst().orElseThrow();
                assertEquals("flaky", row.getString("endpoint"), row::encode);
            }
            // Enabled again: redelivery is accepted (and, the receiver fixed, arrives).
            broken.answerWith(200);
            try (TestRegistry registry = start(storage, config(endpoints + flaky))) {
                RegistryClient c = registry.client();
                expect(c.post("/api/webhooks/deliveries/" + parkedId + "/redeliver", new byte[0]), 202);
                waitFor("the redelivered row delivered", () -> delivery(c, "flaky", parkedId),
                        r -> "delivered".equals(r.getString("status")));
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    /** The events delivered so far, handed out in arrival order. */
    private static final class Feed {
        private final WebhookReceiver receiver;
        int seen;

        Feed(WebhookReceiver receiver) {
            this.receiver = receiver;
        }

        JsonObject next(String what) throws InterruptedException {
            return next(1, what).get(0);
        }

        /** The next {@code n} events: whatever arrives next must be what the last request caused. */
        List<JsonObject> next(int n, String what) throws InterruptedException {
            int from = seen;
            List<JsonObject> all = waitFor(what, receiver::acceptedEvents, l -> l.size() >= from + n);
            seen += n;
            return List.copyOf(all.subList(from, from + n));
        }
    }

    /** One endpoint named {@code name} at {@code /name} of the receiver, with quick retries. */
    private Path oneEndpoint(WebhookReceiver receiver, String name) throws Exception {
        return config("""
                - name: %s
                  url: "%s"
                  backoff: {initial: 50ms, max: 200ms}
                """.formatted(name, receiver.url("/" + name)));
    }

    private Path config(String endpointsYaml) throws Exception {
        StringBuilder yaml = new StringBuilder("notifications:\n  endpoints:\n");
        endpointsYaml.lines().forEach(line -> yaml.append("    ").append(line).append('\n'));
        Path file = Files.createTempFile(dir, "berth-", ".yaml");
        Files.writeString(file, yaml.toString());
        return file;
    }

    private TestRegistry start(Path config) throws Exception {
        return start(Files.createTempDirectory(dir, "storage-"), config);
    }

    private static TestRegistry start(Path storage, Path config) throws Exception {
        return TestRegistry.start(storage, config, Map.of("storage.filesystem.fsync", "false"));
    }

    private static <T> T waitFor(String what, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        T last = probe.get();
        while (!done.test(last)) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + "; last seen: " + last);
            }
            Thread.sleep(25);
            last = probe.get();
        }
        return last;
    }

    private static HttpResponse<byte[]> call(RegistryClient c, String method, String path, byte[] body, String... headers) {
        HttpRequest.Builder b = c.request(path)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("User-Agent", USER_AGENT);
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return c.send(b.build());
    }

    private static String pushBlobInTwoSteps(RegistryClient c, String repo, byte[] content) {
        HttpResponse<byte[]> session = call(c, "POST", "/v2/" + repo + "/blobs/uploads/", new byte[0]);
        expect(session, 202);
        String digest = sha256(content);
        expect(call(c, "PUT", withQuery(header(session, "Location"), "digest=" + digest), content,
                "Content-Type", BLOB_TYPE), 201);
        return digest;
    }

    private static String pushBlobMonolithic(RegistryClient c, String repo, byte[] content) {
        String digest = sha256(content);
        HttpResponse<byte[]> r = call(c, "POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest, content,
                "Content-Type", BLOB_TYPE);
        expect(r, 201);
        assertEquals(digest, header(r, "Docker-Content-Digest"));
        return digest;
    }

    private static byte[] imageConfig(String architecture) {
        return new JsonObject().put("architecture", architecture).put("os", "linux")
                .put("rootfs", new JsonObject().put("type", "layers").put("diff_ids", new JsonArray()))
                .encode().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] manifest(String configDigest, long configSize, List<String> layers, List<? extends Number> sizes) {
        JsonArray layerArray = new JsonArray();
        for (int i = 0; i < layers.size(); i++) {
            layerArray.add(descriptor(OCI_LAYER, layers.get(i), sizes.get(i).longValue()));
        }
        return new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                .put("config", descriptor(OCI_CONFIG, configDigest, configSize))
                .put("layers", layerArray)
                .encode().getBytes(StandardCharsets.UTF_8);
    }

    private static long blobLength(RegistryClient c, String repo, String digest) {
        HttpResponse<byte[]> r = c.head("/v2/" + repo + "/blobs/" + digest);
        expect(r, 200);
        return Long.parseLong(header(r, "Content-Length"));
    }

    private static JsonObject target(JsonObject event) {
        JsonObject t = event.getJsonObject("target");
        assertNotNull(t, () -> "no target in " + event.encode());
        return t;
    }

    private static JsonObject request(JsonObject event) {
        JsonObject r = event.getJsonObject("request");
        assertNotNull(r, () -> "no request in " + event.encode());
        return r;
    }

    /** What every event must carry, whatever its action. */
    private static void assertCommon(TestRegistry registry, JsonObject e, String action, String method, Instant notBefore) {
        String show = e.encodePrettily();
        assertEquals(action, e.getString("action"), show);
        assertFalse(e.getString("id", "").isBlank(), show);
        Instant at = Instant.parse(e.getString("timestamp"));
        assertFalse(at.isBefore(notBefore.minusSeconds(1)), show);
        assertFalse(at.isAfter(Instant.now().plusSeconds(1)), show);
        JsonObject request = request(e);
        assertFalse(request.getString("id", "").isBlank(), show);
        assertTrue(request.getString("addr", "").matches("127\\.0\\.0\\.1:\\d+"), show);
        assertEquals(registry.hostPort(), request.getString("host"), show);
        assertEquals(method, request.getString("method"), show);
        assertEquals(USER_AGENT, request.getString("useragent"), show);
        assertEquals(new JsonObject(), e.getJsonObject("actor"), () -> "anonymous actor: " + show);
        JsonObject source = e.getJsonObject("source");
        assertNotNull(source, show);
        assertEquals(registry.hostPort(), source.getString("addr"), show);
        assertFalse(source.getString("instanceID", "").isBlank(), show);
    }

    private static void assertBlobTarget(TestRegistry registry, JsonObject e, String repo, String digest, long size) {
        String show = e.encodePrettily();
        JsonObject t = target(e);
        assertEquals(BLOB_TYPE, t.getString("mediaType"), show);
        assertEquals(digest, t.getString("digest"), show);
        assertEquals(size, t.getLong("size"), show);
        assertEquals(size, t.getLong("length"), show);
        assertEquals(repo, t.getString("repository"), show);
        assertEquals(registry.baseUrl() + "/v2/" + repo + "/blobs/" + digest, t.getString("url"), show);
    }

    private static void assertManifestTarget(TestRegistry registry, JsonObject e, String repo, String mediaType,
                                             byte[] manifest, String tag, List<String> refDigests, List<Long> refSizes,
                                             List<String> refTypes) {
        String show = e.encodePrettily();
        JsonObject t = target(e);
        String digest = sha256(manifest);
        assertEquals(mediaType, t.getString("mediaType"), show);
        assertEquals(digest, t.getString("digest"), show);
        assertEquals((long) manifest.length, t.getLong("size"), show);
        assertEquals((long) manifest.length, t.getLong("length"), show);
        assertEquals(repo, t.getString("repository"), show);
        assertTrue(t.getString("url", "").endsWith("/v2/" + repo + "/manifests/" + digest), show);
        assertEquals(registry.baseUrl() + "/v2/" + repo + "/manifests/" + digest, t.getString("url"), show);
        if (tag == null) {
            assertFalse(t.containsKey("tag"), show);
        } else {
            assertEquals(tag, t.getString("tag"), show);
        }
        JsonArray refs = t.getJsonArray("references");
        assertNotNull(refs, show);
        List<String> digests = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            JsonObject r = refs.getJsonObject(i);
            digests.add(r.getString("digest"));
            if (i < refSizes.size()) {
                assertEquals(refSizes.get(i), r.getLong("size"), show);
                assertEquals(refTypes.get(i), r.getString("mediaType"), show);
            }
        }
        assertEquals(refDigests, digests, "references: config then layers\n" + show);
        assertFalse(t.containsKey("fromRepository"), show);
    }

    /** Events the receiver accepted at {@code path}, in arrival order. */
    private static List<JsonObject> eventsAt(WebhookReceiver receiver, String path) {
        List<JsonObject> events = new ArrayList<>();
        for (Received r : receiver.requests()) {
            if (r.path().equals(path) && r.answeredWith() / 100 == 2) {
                r.events().forEach(e -> events.add((JsonObject) e));
            }
        }
        return events;
    }

    private static List<String> eventIds(Received r) {
        return r.events().stream().map(e -> ((JsonObject) e).getString("id")).toList();
    }

    /**
     * The endpoint at {@code path} got exactly the events of the catch-all endpoint that {@code wanted}
     * selects (same events, same order), and that is {@code expected} many.
     */
    private static List<JsonObject> assertSelected(WebhookReceiver receiver, List<JsonObject> all, String path,
                                                   int expected, Predicate<JsonObject> wanted) {
        List<JsonObject> got = eventsAt(receiver, path);
        List<String> expectedIds = all.stream().filter(wanted).map(e -> e.getString("id")).toList();
        List<String> gotIds = got.stream().map(e -> e.getString("id")).toList();
        assertEquals(expected, expectedIds.size(), "events the filter of " + path + " should select");
        assertEquals(expectedIds, gotIds, () -> path + " got: " + got.stream()
                .map(e -> e.getString("action") + " " + target(e).getString("repository") + " "
                        + target(e).getString("mediaType") + " " + target(e).getString("tag")).toList());
        return got;
    }

    private static JsonArray webhooks(RegistryClient c) {
        HttpResponse<byte[]> r = c.get("/api/webhooks");
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        assertTrue(header(r, "Content-Type").startsWith("application/json"));
        return json(r).getJsonArray("endpoints");
    }

    private static JsonObject webhook(RegistryClient c, String name) {
        return webhooks(c).stream().map(o -> (JsonObject) o).filter(w -> name.equals(w.getString("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no endpoint " + name + " in GET /api/webhooks"));
    }

    private static JsonArray deliveries(RegistryClient c, String query) {
        HttpResponse<byte[]> r = c.get("/api/webhooks/deliveries" + query);
        assertEquals(200, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        return json(r).getJsonArray("deliveries");
    }

    private static JsonObject delivery(RegistryClient c, String endpoint, long id) {
        return deliveries(c, "?endpoint=" + endpoint + "&limit=1000").stream().map(o -> (JsonObject) o)
                .filter(d -> d.getLong("id") == id).findFirst()
                .orElseThrow(() -> new AssertionError("no delivery " + id));
    }

    /** {@code {"error":{"code","message","field"}}} with the status, as JSON; returns the error object. */
    private static JsonObject assertApiError(HttpResponse<byte[]> r, int status, String code, String field) {
        String body = new String(r.body(), StandardCharsets.UTF_8);
        String show = r.request().method() + " " + r.uri() + " -> " + r.statusCode() + " " + body;
        assertEquals(status, r.statusCode(), show);
        assertTrue(header(r, "Content-Type") != null && header(r, "Content-Type").startsWith("application/json"), show);
        JsonObject error = new JsonObject(body).getJsonObject("error");
        assertNotNull(error, show);
        assertEquals(code, error.getString("code"), show);
        assertFalse(error.getString("message", "").isBlank(), show);
        if (field != null) {
            assertEquals(field, error.getString("field"), show);
        }
        return error;
    }

    private static String hmacSha256Hex(String secret, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(body));
    }
}
