package dev.berth.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.berth.config.BerthConfig.LimitsConfig;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Limits per client, by remote address, in front of every registry and API route: a token bucket of
 * requests ({@code requestsPerSecond}, {@code burst}) and a cap on upload requests sending bodies at
 * once ({@code concurrentUploads}). A client over either limit gets {@code 429} with
 * {@code Retry-After}, through the failure handler of the route it asked for (the registry's error
 * format under {@code /v2/}, the API's elsewhere): a {@link Refusal} builds the exception. One
 * instance serves every event loop, so that a client's connections count together.
 */
public final class ClientLimits implements Handler<RoutingContext> {
    /** Upload requests that carry a body: chunks, the closing PUT, a monolithic POST. */
    private static final Pattern UPLOAD = Pattern.compile("/v2/.+/blobs/uploads/.*");

    /** Turns a refusal into what the route's failure handler writes. */
    public interface Refusal {
        RuntimeException failure(String path, String message);
    }

    private static final class Client {
        double tokens;
        long refilledAt;
        final AtomicInteger uploads = new AtomicInteger();

        Client(double tokens, long now) {
            this.tokens = tokens;
            this.refilledAt = now;
        }
    }

    private final LimitsConfig config;
    private final Refusal refusal;
    private final LongSupplier nanos;
    private final Cache<String, Client> clients = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterAccess(Duration.ofMinutes(10)).build();

    public ClientLimits(LimitsConfig config, Refusal refusal) {
        this(config, refusal, System::nanoTime);
    }

    ClientLimits(LimitsConfig config, Refusal refusal, LongSupplier nanos) {
        this.config = config;
        this.refusal = refusal;
        this.nanos = nanos;
    }

    /** Whether any limit is on (otherwise the handler need not be installed). */
    public static boolean enabled(LimitsConfig config) {
        return config.requestsPerSecond() > 0 || config.concurrentUploads() > 0;
    }

    @Override
    public void handle(RoutingContext ctx) {
        SocketAddress remote = ctx.request().remoteAddress();
        String who = remote == null || remote.hostAddress() == null ? "?" : remote.hostAddress();
        String path = ctx.request().path();
        Client client = clients.get(who, k -> new Client(config.effectiveBurst(), nanos.getAsLong()));
        long wait = take(client);
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
            ctx.fail(refusal.failure(path, "more than " + config.requestsPerSecond() + " requests per second from "
                    + who + "; retry in " + wait + " s"));
            return;
        }
        HttpMethod method = ctx.request().method();
        if (config.concurrentUploads() > 0 && method != HttpMethod.GET && method != HttpMethod.HEAD
                && method != HttpMethod.DELETE && UPLOAD.matcher(path).matches()) {
            if (client.uploads.incrementAndGet() > config.concurrentUploads()) {
                client.uploads.decrementAndGet();
                ctx.response().putHeader("Retry-After", "1");
                ctx.fail(refusal.failure(path, "more than " + config.concurrentUploads() + " uploads at once from " + who));
                return;
            }
            // Released as the answer's headers go out, so that a client which has read the answer
            // may start its next upload at once; or, when no answer is sent because the connection
            // went away, by the end handler. Whichever runs first releases, once.
            AtomicBoolean held = new AtomicBoolean(true);
            Runnable release = () -> {
                if (held.compareAndSet(true, false)) {
                    client.uploads.decrementAndGet();
                }
            };
            ctx.addHeadersEndHandler(v -> release.run());
            ctx.addEndHandler(v -> release.run());
        }
        ctx.next();
    }

    /** Takes a token; 0 when there was one, otherwise the whole seconds until there is. */
    private long take(Client c) {
        if (config.requestsPerSecond() <= 0) {
            return 0;
        }
        synchronized (c) {
            long now = nanos.getAsLong();
            double rate = config.requestsPerSecond();
            c.tokens = Math.min(config.effectiveBurst(), c.tokens + (now - c.refilledAt) / 1e9 * rate);
            c.refilledAt = now;
            if (c.tokens >= 1) {
                c.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - c.tokens) / rate));
        }
    }
}
