package dev.berth.app;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.function.Function;

/**
 * One HTTP server instance on one event loop; {@link BerthServer} deploys one per loop on the same
 * port so connections spread over all cores. Stopping shuts down gracefully: no new requests,
 * in-flight ones get up to the shutdown timeout.
 */
final class RegistryVerticle extends VerticleBase {
    private final HttpServerOptions options;
    private final Function<io.vertx.core.Vertx, Router> routes;
    private final Duration shutdownTimeout;
    private HttpServer server;

    RegistryVerticle(HttpServerOptions options, Function<io.vertx.core.Vertx, Router> routes, Duration shutdownTimeout) {
        this.options = options;
        this.routes = routes;
        this.shutdownTimeout = shutdownTimeout;
    }

    @Override
    public Future<?> start() {
        server = vertx.createHttpServer(options).requestHandler(routes.apply(vertx));
        return server.listen();
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(shutdownTimeout);
    }
}
