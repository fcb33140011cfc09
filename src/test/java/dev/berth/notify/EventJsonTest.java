package dev.berth.notify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** {@link EventJson}: CNCF distribution field names, omission of empty fields, round trip, the envelope bytes. */
class EventJsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
    private static final String LAYER_DIGEST = "sha256:" + "fedcba9876543210".repeat(4);
    private static final String CONFIG_DIGEST = "sha256:" + "1111111111111111".repeat(4);

    /** An event with every field set. */
    private static Event full() {
        return new Event("evt-1", "2024-05-06T07:08:09.123Z", Event.MOUNT,
                new Event.Target("application/vnd.oci.image.manifest.v1+json", 1234L, DIGEST, 1234L, "team/app",
                        "base/app", "http://127.0.0.1:5000/v2/team/app/manifests/" + DIGEST, "v1",
                        List.of(new Event.Reference("application/vnd.oci.image.config.v1+json", 100, CONFIG_DIGEST),
                                new Event.Reference("application/vnd.oci.image.layer.v1.tar+gzip", 2000, LAYER_DIGEST))),
                new Event.Request("req-1", "127.0.0.1:40000", "registry.example:5000", "PUT", "docker/27.0 go/1.22"),
                new Event.Actor("alice"),
                new Event.Source("127.0.0.1:5000", "instance-42"));
    }

    private static JsonNode tree(String json) throws Exception {
        return MAPPER.readTree(json);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void fieldNamesAreThoseOfCncfDistribution() throws Exception {
        JsonNode json = tree(EventJson.toJson(full()));
        assertEquals(Set.of("id", "timestamp", "action", "target", "request", "actor", "source"), fieldNames(json));
        assertEquals("evt-1", json.get("id").asText());
        assertEquals("2024-05-06T07:08:09.123Z", json.get("timestamp").asText());
        assertEquals("mount", json.get("action").asText());

        JsonNode target = json.get("target");
        assertEquals(Set.of("mediaType", "size", "digest", "length", "repository", "fromRepository", "url", "tag",
                "references"), fieldNames(target));
        assertEquals("application/vnd.oci.image.manifest.v1+json", target.get("mediaType").asText());
        assertEquals(1234, target.get("size").asLong());
        assertTrue(target.get("size").isIntegralNumber(), "size is a JSON number");
        assertEquals(1234, target.get("length").asLong());
        assertEquals(DIGEST, target.get("digest").asText());
        assertEquals("team/app", target.get("repository").asText());
        assertEquals("base/app", target.get("fromRepository").asText());
        assertEquals("v1", target.get("tag").asText());
        assertTrue(target.get("references").isArray());
        assertEquals(2, target.get("references").size());
        JsonNode ref = target.get("references").get(0);
        assertEquals(Set.of("mediaType", "size", "digest"), fieldNames(ref));
        assertEquals("application/vnd.oci.image.config.v1+json", ref.get("mediaType").asText());
        assertEquals(100, ref.get("size").asLong());
        assertEquals(CONFIG_DIGEST, ref.get("digest").asText());

        JsonNode request = json.get("request");
        assertEquals(Set.of("id", "addr", "host", "method", "useragent"), fieldNames(request));
        assertEquals("docker/27.0 go/1.22", request.get("useragent").asText());
        assertEquals("PUT", request.get("method").asText());
        assertEquals("registry.example:5000", request.get("host").asText());
        assertEquals("127.0.0.1:40000", request.get("addr").asText());

        assertEquals("alice", json.get("actor").get("name").asText());

        JsonNode source = json.get("source");
        assertEquals(Set.of("addr", "instanceID"), fieldNames(source));
        assertEquals("instance-42", source.get("instanceID").asText());
        assertEquals("127.0.0.1:5000", source.get("addr").asText());
    }

    @Test
    void emptyFieldsAreOmitted() throws Exception {
        Event sparse = new Event("evt-2", "2024-01-01T00:00:00Z", Event.PUSH,
                new Event.Target("application/octet-stream", 5L, DIGEST, 5L, "app", null, null, "", List.of()),
                new Event.Request("req-2", null, "", "PUT", null),
                null,
                new Event.Source("127.0.0.1:5000", null));
        String text = EventJson.toJson(sparse);
        JsonNode json = tree(text);
        assertEquals(Set.of("id", "timestamp", "action", "target", "request", "source"), fieldNames(json));
        assertEquals(Set.of("mediaType", "size", "digest", "length", "repository"), fieldNames(json.get("target")));
        // Request fields are kept when empty (distribution always sends them); only unset ones go.
        assertEquals(Set.of("id", "host", "method"), fieldNames(json.get("request")));
        assertEquals("", json.get("request").get("host").asText());
        assertEquals(Set.of("addr"), fieldNames(json.get("source")));
        assertFalse(text.contains("null"), text);
        assertFalse(json.get("target").toString().contains("\"\""), text);
        assertFalse(text.contains("[]"), text);
    }

    @Test
    void theAnonymousActorIsAnEmptyObjectAsDistributionSendsIt() throws Exception {
        Event e = new Event("e", "t", Event.PULL, null, new Event.Request("r", "a", "h", "GET", ""),
                Event.Actor.ANONYMOUS, null);
        JsonNode json = tree(EventJson.toJson(e));
        assertTrue(json.get("actor").isObject());
        assertEquals(0, json.get("actor").size());
        assertEquals("", json.get("request").get("useragent").asText());
        assertEquals(e, EventJson.fromJson(EventJson.toJson(e)));
    }

    @Test
    void eventWithoutTargetHasOnlyItsSetFields() throws Exception {
        JsonNode json = tree(EventJson.toJson(new Event("e", "t", Event.DELETE, null, null, null, null)));
        assertEquals(Set.of("id", "timestamp", "action"), fieldNames(json));
    }

    @Test
    void roundTripGivesAnEqualEvent() {
        Event e = full();
        assertEquals(e, EventJson.fromJson(EventJson.toJson(e)));

        Event sparse = new Event("evt-3", "2024-01-01T00:00:00Z", Event.DELETE,
                new Event.Target(null, null, DIGEST, null, "team/app", null, null, null, null),
                new Event.Request("r", null, null, "DELETE", null), null, null);
        assertEquals(sparse, EventJson.fromJson(EventJson.toJson(sparse)));
    }

    @Test
    void toJsonIsStable() {
        // what is signed must be what is sent: the same event always gives the same bytes
        assertEquals(EventJson.toJson(full()), EventJson.toJson(full()));
        assertEquals(EventJson.toJson(full()), EventJson.toJson(EventJson.fromJson(EventJson.toJson(full()))));
    }

    @Test
    void fromJsonReadsCncfDistributionNamesAndIgnoresUnknownFields() {
        String json = "{\"id\":\"x\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"action\":\"push\","
                + "\"target\":{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":7,"
                + "\"digest\":\"" + DIGEST + "\",\"repository\":\"r\",\"tag\":\"latest\",\"somethingNew\":1},"
                + "\"request\":{\"id\":\"q\",\"useragent\":\"curl/8\"},"
                + "\"source\":{\"addr\":\"h:1\",\"instanceID\":\"i\"},\"extra\":{\"a\":[1,2]}}";
        Event e = EventJson.fromJson(json);
        assertEquals("push", e.action());
        assertEquals("latest", e.target().tag());
        assertEquals(7L, e.target().size());
        assertNull(e.target().length());
        assertEquals("curl/8", e.request().userAgent());
        assertEquals("i", e.source().instanceId());
        assertNull(e.actor());
    }

    @Test
    void fromJsonRejectsNonEvents() {
        assertThrows(IllegalArgumentException.class, () -> EventJson.fromJson("not json"));
        assertThrows(IllegalArgumentException.class, () -> EventJson.fromJson("[1,2]"));
    }

    @Test
    void envelopeIsExactlyTheEventsArrayAroundTheGivenJson() {
        String a = "{\"id\":\"a\"}";
        String b = "{\"id\":\"b\",\"x\":[1, 2]}";
        assertArrayEquals("{\"events\":[{\"id\":\"a\"},{\"id\":\"b\",\"x\":[1, 2]}]}".getBytes(StandardCharsets.UTF_8),
                EventJson.envelope(List.of(a, b)));
        assertArrayEquals("{\"events\":[{\"id\":\"a\"}]}".getBytes(StandardCharsets.UTF_8),
                EventJson.envelope(List.of(a)));
        assertArrayEquals("{\"events\":[]}".getBytes(StandardCharsets.UTF_8), EventJson.envelope(List.of()));
    }

    @Test
    void envelopeIsUtf8() {
        byte[] bytes = EventJson.envelope(List.of("{\"tag\":\"caf\u00e9\"}"));
        byte[] expected = new byte[] {'{', '"', 'e', 'v', 'e', 'n', 't', 's', '"', ':', '[', '{', '"', 't', 'a', 'g',
                '"', ':', '"', 'c', 'a', 'f', (byte) 0xc3, (byte) 0xa9, '"', '}', ']', '}'};
        assertArrayEquals(expected, bytes);
    }

    @Test
    void envelopeOfSerialisedEventsParsesBackToTheEvents() throws Exception {
        Event first = full();
        Event second = new Event("evt-9", "2024-01-01T00:00:01Z", Event.PULL,
                new Event.Target("application/octet-stream", 1L, DIGEST, 1L, "app", null, null, null, null),
                null, null, null);
        byte[] envelope = EventJson.envelope(List.of(EventJson.toJson(first), EventJson.toJson(second)));
        JsonNode json = MAPPER.readTree(envelope);
        assertEquals(Set.of("events"), fieldNames(json));
        List<Event> events = new ArrayList<>();
        for (JsonNode e : json.get("events")) {
            events.add(EventJson.fromJson(MAPPER.writeValueAsString(e)));
        }
        assertEquals(List.of(first, second), events);
    }

    @Test
    void envelopeMediaTypeIsDistributions() {
        assertEquals("application/vnd.docker.distribution.events.v2+json", EventJson.ENVELOPE_MEDIA_TYPE);
    }
}
