package dev.berth.app;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One HTTP server instance on one event loop; {@link BerthServer} deploys one per loop on the same
 * port so connections spread over all cores. Stopping shuts down gracefully: no new requests,
 * in-flight ones get up to the shutdown timeout.
 *
 * <p>With a header timeout, a new connection must deliver its first request's headers in time or
 * be closed: slow clients cannot hold connections open by trickling a request in. (After that the
 * idle timeout applies; it counts whole HTTP messages, so headers trickling in on a kept-alive
 * connection do not hold it past the idle timeout either.)
 */
final class RegistryVerticle extends VerticleBase {
    private final HttpServerOptions options;
    private final Function<io.vertx.core.Vertx, Router> routes;
    private final Duration shutdownTimeout;
    private final Duration headerTimeout;
    private HttpServer server;
    /** Connections (all on this verticle's event loop) still waiting for their first request, with their timers. */
    private final Map<HttpConnection, Long> waiting = new HashMap<>();

    /** @param headerTimeout how long a new connection may take to deliver its first request's headers (0: no limit) */
    RegistryVerticle(HttpServerOptions options, Function<io.vertx.core.Vertx, Router> routes, Duration shutdownTimeout,
                     Duration headerTimeout) {
        this.options = options;
        this.routes = routes;
        this.shutdownTimeout = shutdownTimeout;
        this.headerTimeout = headerTimeout;
    }

    @Override
    public Future<?> start() {
        Router router = routes.apply(vertx);
        server = vertx.createHttpServer(options);
        if (headerTimeout.isZero()) {
            server.requestHandler(router);
            return server.listen();
        }
        // Called as a connection is accepted (BerthServer turns h2c off: nothing to sniff first).
        server.connectionHandler(connection -> {
            waiting.put(connection, vertx.setTimer(headerTimeout.toMillis(), id -> {
                if (waiting.remove(connection) != null) {
                    connection.close();
                }
            }));
            connection.closeHandler(v -> {
                Long timer = waiting.remove(connection);
                if (timer != null) {
                    vertx.cancelTimer(timer);
                }
            });
        });
        server.requestHandler(request -> {
            if (!waiting.isEmpty()) {
                Long timer = waiting.remove(request.connection());
                if (timer != null) {
                    vertx.cancelTimer(timer);
                }
            }
            router.handle(request);
        });
        return server.listen();
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(shutdownTimeout);
    }
}
