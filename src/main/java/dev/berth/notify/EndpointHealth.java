package dev.berth.notify;

/** An endpoint's state for operators: times are epoch milliseconds, 0 when never. */
public record EndpointHealth(String name, String url, boolean disabled, long backlog, long failed,
                             long lastSuccessAt, long lastErrorAt, String lastError) {
}
