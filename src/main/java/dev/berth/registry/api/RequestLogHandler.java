package dev.berth.registry.api;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One structured line per request once its response ends (or its connection drops): method, path,
 * status, bytes sent, milliseconds and client address, at info level on logger {@code berth.access}.
 */
public final class RequestLogHandler implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger("berth.access");

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addEndHandler(ar -> {
            if (!LOG.isInfoEnabled()) {
                return;
            }
            HttpServerRequest request = ctx.request();
            LOG.atInfo()
                    .addKeyValue("method", request.method().name())
                    .addKeyValue("path", request.path())
                    .addKeyValue("status", ar.succeeded() ? ctx.response().getStatusCode() : 0)
                    .addKeyValue("bytes", ctx.response().bytesWritten())
                    .addKeyValue("ms", (System.nanoTime() - start) / 1_000_000)
                    .addKeyValue("remote", request.remoteAddress() == null ? "-" : request.remoteAddress().hostAddress())
                    .log(ar.succeeded() ? "request" : "request aborted");
        });
        ctx.next();
    }
}
