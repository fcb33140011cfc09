package dev.berth.api;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes every /api/ failure as {@code {"error":{"code","message","field"}}}. */
public final class ApiFailureHandler implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger(ApiFailureHandler.class);

    @Override
    public void handle(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        ApiException e = translate(ctx);
        JsonObject error = new JsonObject().put("code", e.code()).put("message", e.getMessage());
        if (e.field() != null) {
            error.put("field", e.field());
        }
        ctx.response().setStatusCode(e.status()).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", error).encode());
    }

    private static ApiException translate(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (t instanceof ApiException e) {
            return e;
        }
        if (t == null) {
            return switch (ctx.statusCode()) {
                case 404 -> new ApiException(404, "NotFound", "no such endpoint: " + ctx.request().path(), null);
                case 405 -> new ApiException(405, "MethodNotAllowed", ctx.request().method() + " is not allowed here", null);
                default -> new ApiException(ctx.statusCode(), "Error", "HTTP " + ctx.statusCode(), null);
            };
        }
        if (!(t instanceof HttpClosedException)) {
            LOG.atError().setCause(t).addKeyValue("path", ctx.request().path()).log("API request failed");
        }
        return new ApiException(500, "ServerException", "internal error", null);
    }
}
