package dev.berth.api;

import dev.berth.deploy.model.ControlPlaneException;
import dev.berth.deploy.model.FieldException;
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
        if (t instanceof FieldException e) {
            return new ApiException(400, "InvalidParameterException", e.getMessage(), e.field());
        }
        if (t instanceof ControlPlaneException e) {
            return new ApiException(e.status(), e.code(), e.getMessage(), e.field());
        }

        if (t == null) {
            return switch (ctx.statusCode()) {
                case 404 -> new ApiException(404, "NotFound", "no such endpoint: " + ctx.request().path(), null);
                case 405 -> new ApiException(405, "MethodNotAllowed", ctx.request().method() + " is not allowed here", null);
                case 413 -> new ApiException(413, "RequestTooLarge", "the request body is larger than the limit", null);
                case 400 -> new ApiException(400, "InvalidParameterException", "the request cannot be read", null);
                default -> new ApiException(ctx.statusCode(), "Error", "HTTP " + ctx.statusCode(), null);
            };
        }
        if (!(t instanceof HttpClosedException)) {
            LOG.atError().setCause(t).addKeyValue("path", ctx.request().path()).log("API request failed");
        }
        return new ApiException(500, "ServerException", "internal error", null);
    }
}
