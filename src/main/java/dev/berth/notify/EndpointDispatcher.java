package dev.berth.notify;

import dev.berth.config.BerthConfig.EndpointConfig;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.concurrent.ThreadLocalRandom;
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
    private final Context context;
    private final Outbox outbox;
    private final EndpointConfig config;
    private final HttpClient client;
    private final HmacSigner signer;
    private boolean running;
    private boolean wakeAgain;
    private long timer = -1;
    private volatile boolean stopped;

    EndpointDispatcher(Vertx vertx, Outbox outbox, EndpointConfig config) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.outbox = outbox;
        this.config = config;
        this.client = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(true)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis())),
                new PoolOptions().setHttp1MaxSize(2));
        this.signer = config.secret().isEmpty() ? null : new HmacSigner(config.secret());
    }

    String name() {
        return config.name();
    }

    void start() {
        context.runOnContext(v -> run());
    }

    /** New work may be queued: look now rather than at the next timer. */
    void wake() {
        context.runOnContext(v -> {
            if (stopped) {
                return;
            }
            if (running) {
                wakeAgain = true;
            } else {
                if (timer >= 0) {
                    vertx.cancelTimer(timer);
                    timer = -1;
                }
                run();
            }
        });
    }

    void stop() {
        stopped = true;
        context.runOnContext(v -> {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            client.close();
        });
    }

    private void run() {
        if (stopped) {
            return;
        }
        running = true;
        wakeAgain = false;
        outbox.nextBatch(config.name(), config.batchSize()).onComplete(ar -> {
            if (ar.failed()) {
                LOG.atWarn().setCause(ar.cause()).addKeyValue("endpoint", config.name()).log("cannot read the outbox");
                idle(POLL_MS);
                return;
            }
            Outbox.Batch batch = ar.result();
            if (batch.isEmpty()) {
                idle(POLL_MS);
                return;
            }
            long wait = batch.dueAt() - System.currentTimeMillis();
            if (wait > 0) {
                idle(wait);
                return;
            }
            send(batch);
        });
    }

    private void idle(long ms) {
        running = false;
        if (stopped) {
            return;
        }
        if (wakeAgain) {
            run();
            return;
        }
        timer = vertx.setTimer(Math.max(1, ms), id -> {
            timer = -1;
            run();
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
        HttpClientRequest[] request = new HttpClientRequest[1];
        // An overall deadline: the client's own timeouts only cover connecting and silence.
        long deadline = vertx.setTimer(timeoutMs, id -> {
            if (request[0] != null) {
                request[0].reset(0, new java.util.concurrent.TimeoutException("no answer within " + timeoutMs + " ms"));
            }
        });
        client.request(options)
                .compose(req -> {
                    request[0] = req;
                    return req.send(Buffer.buffer(body));
                })
                .compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(ar -> {
                    vertx.cancelTimer(deadline);
                    if (ar.succeeded() && ar.result() / 100 == 2) {
                        outbox.delivered(config.name(), batch.deliveryIds()).onComplete(x -> run());
                        return;
                    }
                    String error = ar.succeeded() ? "HTTP " + ar.result() : describe(ar.cause());
                    int attempts = 1 + batch.attempts().stream().mapToInt(Integer::intValue).max().orElse(0);
                    long retryAt = System.currentTimeMillis() + backoffMillis(attempts);
                    LOG.atWarn().addKeyValue("endpoint", config.name()).addKeyValue("events", batch.deliveryIds().size())
                            .addKeyValue("attempt", attempts).addKeyValue("error", error).log("webhook delivery failed");
                    outbox.failed(config.name(), batch.deliveryIds(), error, retryAt, config.maxAttempts())
                            .onComplete(x -> run());
                });
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
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
