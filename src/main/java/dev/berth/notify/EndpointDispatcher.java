package dev.berth.notify;

import dev.berth.config.BerthConfig.EndpointConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers one endpoint's events, one batch at a time and strictly in event order: the head of the
 * queue is retried (doubling backoff with jitter) until it is delivered or parked after
 * {@code maxAttempts}; only then do later events go. It runs on its own Vert.x context with its own
 * HTTP client, so a slow or dead endpoint holds up nothing but itself.
 */
final class EndpointDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointDispatcher.class);
    /** How often an idle dispatcher looks at its queue anyway (wake-ups are signals, this is a safety net). */
    private static final long POLL_MS = 5_000;

    private final Vertx vertx;
    private final Outbox outbox;
    private final EndpointConfig config;
    private final HttpClient client;
    private final HmacSigner signer;
    private final ContextLoop loop;

    EndpointDispatcher(Vertx vertx, Outbox outbox, EndpointConfig config) {
        this.vertx = vertx;
        this.outbox = outbox;
        this.config = config;
        this.client = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(true)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis())),
                new PoolOptions().setHttp1MaxSize(2));
        this.signer = config.secret().isEmpty() ? null : new HmacSigner(config.secret());
        this.loop = new ContextLoop(vertx, "webhook " + config.name(), this::step);
    }

    String name() {
        return config.name();
    }

    void start() {
        loop.start();
    }

    /** New work may be queued: look now rather than at the next timer. */
    void wake() {
        loop.wake();
    }

    /** Stops after the attempt in flight, whose outcome is then left unrecorded (it is retried after a restart). */
    void stop() {
        loop.stop();
        loop.context().runOnContext(v -> client.close());
    }

    private void step() {
        outbox.nextBatch(config.name(), config.batchSize()).onComplete(ar -> {
            if (ar.failed()) {
                LOG.atWarn().setCause(ar.cause()).addKeyValue("endpoint", config.name()).log("cannot read the outbox");
                loop.idle(POLL_MS);
                return;
            }
            Outbox.Batch batch = ar.result();
            if (batch.isEmpty()) {
                loop.idle(POLL_MS);
                return;
            }
            long wait = batch.dueAt() - System.currentTimeMillis();
            if (wait > 0) {
                loop.idle(wait);
                return;
            }
            if (loop.stopped()) {
                return;
            }
            try {
                send(batch);
            } catch (RuntimeException e) {
                // e.g. a header the HTTP client refuses: a failed attempt, not a stuck endpoint
                failed(batch, describe(e));
            }
        });
    }

    private void send(Outbox.Batch batch) {
        byte[] body = EventJson.envelope(batch.eventsJson());
        long timeoutMs = config.timeout().toMillis();
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(config.url())
                .setTimeout(timeoutMs)
                .putHeader("Content-Type", EventJson.ENVELOPE_MEDIA_TYPE)
                .putHeader("User-Agent", "berth-notifications");
        config.headers().forEach(options::putHeader);
        if (signer != null) {
            options.putHeader(HmacSigner.HEADER, signer.sign(body));
        }
        // An overall deadline: the client's own timeouts only cover connecting and silence. It may
        // fire before the request exists (slow connect); the request is then reset on arrival.
        HttpClientRequest[] request = new HttpClientRequest[1];
        boolean[] expired = new boolean[1];
        TimeoutException timeout = new TimeoutException("no answer within " + timeoutMs + " ms");
        long deadline = vertx.setTimer(timeoutMs, id -> {
            expired[0] = true;
            if (request[0] != null) {
                request[0].reset(0, timeout);
            }
        });
        client.request(options)
                .compose(req -> {
                    request[0] = req;
                    if (expired[0]) {
                        req.reset(0, timeout);
                    }
                    return req.send(Buffer.buffer(body));
                })
                .compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(ar -> {
                    vertx.cancelTimer(deadline);
                    if (loop.stopped()) {
                        return; // shutting down: this attempt does not count, the delivery stays as it was
                    }
                    // Like CNCF distribution: anything below 400 is accepted.
                    if (ar.succeeded() && ar.result() < 400) {
                        outbox.delivered(config.name(), batch.deliveryIds()).onComplete(x -> afterOutcome(x.failed()));
                    } else {
                        failed(batch, ar.succeeded() ? "HTTP " + ar.result() : describe(ar.cause()));
                    }
                });
    }

    private void failed(Outbox.Batch batch, String error) {
        int attempts = 1 + batch.attempts().stream().mapToInt(Integer::intValue).max().orElse(0);
        long retryAt = System.currentTimeMillis() + backoffMillis(attempts);
        LOG.atWarn().addKeyValue("endpoint", config.name()).addKeyValue("events", batch.deliveryIds().size())
                .addKeyValue("attempt", attempts).addKeyValue("error", error).log("webhook delivery failed");
        outbox.failed(config.name(), batch.deliveryIds(), error, retryAt, config.maxAttempts())
                .onComplete(x -> afterOutcome(x.failed()));
    }

    /** Next batch at once; but if the outcome could not be saved, pause rather than resend at once. */
    private void afterOutcome(boolean notSaved) {
        if (notSaved) {
            LOG.atWarn().addKeyValue("endpoint", config.name()).log("cannot record a delivery outcome; pausing");
            loop.idle(backoffMillis(1));
        } else {
            loop.idle(0);
        }
    }

    private static String describe(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (Throwable c = t; c != null && s.length() < 500; c = c.getCause() == c ? null : c.getCause()) {
            if (s.length() > 0) {
                s.append(": ");
            }
            s.append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                s.append(" ").append(c.getMessage());
            }
        }
        return s.toString();
    }

    /** Delay before attempt {@code attempts + 1}: doubling from the initial delay up to the maximum, jittered down by up to half. */
    long backoffMillis(int attempts) {
        long initial = config.backoff().initial().toMillis();
        long max = config.backoff().max().toMillis();
        long base = initial;
        for (int i = 1; i < attempts && base < max; i++) {
            base *= 2;
        }
        base = Math.min(base, max);
        return base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }
}
