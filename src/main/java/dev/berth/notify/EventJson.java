package dev.berth.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Events as JSON, and the envelope receivers get: {@code {"events":[…]}}. */
public final class EventJson {
    /** The envelope's media type, as CNCF distribution sends it. */
    public static final String ENVELOPE_MEDIA_TYPE = "application/vnd.docker.distribution.events.v2+json";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private EventJson() {
    }

    public static String toJson(Event event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event not serialisable", e);
        }
    }

    public static Event fromJson(String json) {
        try {
            return MAPPER.readValue(json, Event.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not an event: " + e.getOriginalMessage(), e);
        }
    }

    /** The envelope around events already in JSON, as the exact bytes that are sent and signed. */
    public static byte[] envelope(List<String> eventsJson) {
        return ("{\"events\":[" + String.join(",", eventsJson) + "]}").getBytes(StandardCharsets.UTF_8);
    }
}
