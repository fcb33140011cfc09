package dev.berth.notify;

/** A delivery of one event to one endpoint, as stored. Times are epoch milliseconds, 0 when unset. */
public record Delivery(long id, String endpoint, long eventSeq, String eventId, String action, String repository,
                      String tag, String digest, String mediaType, String status, int attempts, long createdAt,
                      long nextAttemptAt, long lastAttemptAt, long deliveredAt, String lastError) {

    public static final String PENDING = "pending";
    public static final String DELIVERED = "delivered";
    public static final String FAILED = "failed";
}
