/**
 * Registry events and their delivery: the event model in CNCF distribution's notification format,
 * the durable outbox in the embedded database, one dispatcher per webhook endpoint (ordered,
 * retried with backoff, parked after too many attempts, HMAC-signed), and the in-process feed that
 * gives the same events to Berth's own deployer with durable cursors.
 *
 * <p>Recording an event is part of answering the request that caused it (the response waits for the
 * commit); delivering it never is. Events nobody subscribed to are not recorded at all.
 */
package dev.berth.notify;
