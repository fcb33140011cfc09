package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import dev.berth.manifest.ManifestInvalidException;
import dev.berth.registry.store.DigestMismatchException;
import dev.berth.registry.store.ManifestBlobUnknownException;
import dev.berth.registry.store.UploadRangeException;
import dev.berth.registry.store.UploadUnknownException;
import dev.berth.storage.StorageUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into responses: {@code {"errors":[{code,message,detail}]}}
 * with the status of the first error's code. Store exceptions that mean the same thing everywhere
 * are translated here; anything unexpected is logged and becomes {@code 500 UNKNOWN}.
 */
public final class RegistryFailureHandler implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryFailureHandler.class);
    /** Most bytes of an unwanted request body read and dropped after an error response. */
    static final long DRAIN_BUDGET = 16L << 20;

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerResponse response = ctx.response();
        RegistryException failure = translate(ctx);
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            // Part of a body already left: the only honest signal left is a broken connection.
            ctx.request().connection().close();
            return;
        }
        response.putHeader(RegistryHeaders.API_VERSION, RegistryHeaders.API_VERSION_VALUE);
        failure.headers().forEach(response::putHeader);
        HttpServerRequest request = ctx.request();
        // A body we did not read would be taken for the next request. Small leftovers are read and
        // dropped, so that clients which read only after sending still get this answer; large ones
        // close the connection. A client still waiting for "100 Continue" may never send its body,
        // so that connection is closed too.
        boolean awaitingContinue = RequestBody.expectsContinue(request) && ctx.get(RequestBody.CONTINUE_SENT) == null;
        boolean close = !request.isEnded() && (awaitingContinue || !drainable(request));
        if (close) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        JsonArray errors = new JsonArray();
        for (RegistryException.Error e : failure.errors()) {
            JsonObject error = new JsonObject().put("code", e.code().code()).put("message", e.message());
            if (e.detail() != null) {
                error.put("detail", e.detail());
            }
            errors.add(error);
        }
        response.setStatusCode(failure.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        Future<Void> sent = ctx.request().method() == HttpMethod.HEAD
                ? response.end()
                : response.end(new JsonObject().put("errors", errors).encode());
        if (close) {
            sent.onComplete(v -> request.connection().close());
        } else if (!request.isEnded()) {
            drain(request);
        }
    }

    /** Bodies that may be read and dropped after an error: a declared length within the budget, or chunked. */
    private static boolean drainable(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            return true; // chunked: drained up to the budget, then closed
        }
        try {
            return Long.parseLong(length) <= DRAIN_BUDGET;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void drain(HttpServerRequest request) {
        long[] drained = {0};
        request.exceptionHandler(null);
        request.endHandler(v -> { });
        request.handler(chunk -> {
            drained[0] += chunk.length();
            if (drained[0] > DRAIN_BUDGET) {
                request.connection().close();
            }
        });
        request.resume();
    }

    private static RegistryException translate(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (t == null) {
            int status = ctx.statusCode();
            if (status == 404) {
                return new RegistryException(ErrorCode.NOT_FOUND, Map.of("path", ctx.request().path()));
            }
            if (status == 405) {
                return new RegistryException(ErrorCode.UNSUPPORTED, Map.of("method", ctx.request().method().name()));
            }
            return new RegistryException(ErrorCode.UNKNOWN, "HTTP " + status);
        }
        if (t instanceof RegistryException re) {
            return re;
        }
        if (t instanceof UploadUnknownException) {
            return new RegistryException(ErrorCode.BLOB_UPLOAD_UNKNOWN, t.getMessage());
        }
        if (t instanceof UploadRangeException ur) {
            return new RegistryException(ErrorCode.BLOB_UPLOAD_RANGE_INVALID, Map.of("size", ur.size(), "reason", t.getMessage()))
                    .header(RegistryHeaders.RANGE, "0-" + Math.max(0, ur.size() - 1));
        }
        if (t instanceof DigestMismatchException dm) {
            return new RegistryException(ErrorCode.DIGEST_INVALID,
                    Map.of("expected", dm.expected().toString(), "actual", dm.actual().toString()));
        }
        if (t instanceof InvalidDigestException) {
            return new RegistryException(ErrorCode.DIGEST_INVALID, t.getMessage());
        }
        if (t instanceof ManifestInvalidException) {
            return new RegistryException(ErrorCode.MANIFEST_INVALID, t.getMessage());
        }
        if (t instanceof ManifestBlobUnknownException mb) {
            List<RegistryException.Error> errors = new ArrayList<>();
            for (Digest d : mb.missing()) {
                errors.add(new RegistryException.Error(ErrorCode.MANIFEST_BLOB_UNKNOWN,
                        ErrorCode.MANIFEST_BLOB_UNKNOWN.message(), Map.of("digest", d.toString())));
            }
            return new RegistryException(errors);
        }
        if (t instanceof StorageUnavailableException) {
            LOG.atWarn().addKeyValue("method", ctx.request().method().name()).addKeyValue("path", ctx.request().path())
                    .addKeyValue("error", t.getMessage()).log("storage unavailable");
            return new RegistryException(ErrorCode.UNAVAILABLE, "storage unavailable, try again later")
                    .header(HttpHeaders.RETRY_AFTER.toString(), "5");
        }
        if (t instanceof HttpClosedException || ctx.response().closed()) {
            // The client went away mid-request, or sent a body that could not be decoded (a broken
            // chunk), after which the connection is closed: its fault, not ours. Whatever still
            // reaches it says so; the access log records the request as aborted.
            LOG.atDebug().setCause(t).addKeyValue("path", ctx.request().path()).log("client disconnected");
            return new RegistryException(ErrorCode.SIZE_INVALID, "the request body ended before it was complete",
                    Map.of());
        }
        LOG.atError().setCause(t).addKeyValue("method", ctx.request().method().name())
                .addKeyValue("path", ctx.request().path()).log("request failed");
        return new RegistryException(ErrorCode.UNKNOWN, null);
    }
}
