package dev.berth.notify;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One registry event, in the field names of CNCF distribution's notification envelope (so that
 * existing receivers parse it unchanged). Empty fields are left out of the JSON.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Event(String id, String timestamp, String action, Target target, Request request, Actor actor,
                    Source source) {

    public static final String PUSH = "push";
    public static final String PULL = "pull";
    public static final String MOUNT = "mount";
    public static final String DELETE = "delete";

    /** What the event is about: a blob, a manifest (with its tag when named by one), a tag or a repository. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Target(String mediaType, Long size, String digest, Long length, String repository,
                         String fromRepository, String url, String tag, List<Reference> references) {
    }

    /** A descriptor a manifest references. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Reference(String mediaType, long size, String digest) {
    }

    /** The HTTP request that caused the event. Like distribution, every field is present (empty when unknown). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Request(String id, String addr, String host, String method,
                          @JsonProperty("useragent") String userAgent) {
    }

    /** Who did it: the authenticated user; an empty object until authentication exists, as distribution sends it. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Actor(String name) {
        public static final Actor ANONYMOUS = new Actor(null);
    }

    /** Which registry instance emitted it. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Source(String addr, @JsonProperty("instanceID") String instanceId) {
    }
}
