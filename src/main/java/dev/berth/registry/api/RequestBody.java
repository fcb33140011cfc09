package dev.berth.registry.api;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.RoutingContext;

/**
 * A request body that is paused from the start and always terminates. Handlers do asynchronous
 * work (open the upload, a writer) before they pipe the body; if the connection closes in between,
 * the request's failure would reach no one and the pipe would never complete, leaving the upload
 * locked. This wrapper records the failure and hands it to the exception handler whenever one is
 * set, even later.
 *
 * <p>It also answers {@code Expect: 100-continue} only when the body is first asked for, so that a
 * request refused before that (unknown upload, bad range, too large) never makes the client send it.
 */
final class RequestBody implements ReadStream<Buffer> {
    /** Routing-context key set once "100 Continue" was sent for the request. */
    static final String CONTINUE_SENT = "berth.continueSent";

    private final RoutingContext ctx;
    private final HttpServerRequest request;
    private Throwable failure;
    private Handler<Throwable> exceptionHandler;

    /** Pauses the request; call first thing in the handler, before any asynchronous step. */
    RequestBody(RoutingContext ctx) {
        this.ctx = ctx;
        this.request = ctx.request();
        request.pause();
        request.exceptionHandler(this::fail);
        // vertx-web owns the response's close handler; its end handlers see a closed connection as a failure.
        ctx.addEndHandler(ar -> {
            if (ar.failed() && !request.isEnded()) {
                fail(new HttpClosedException("connection closed before the request body ended"));
            }
        });
    }

    private void fail(Throwable t) {
        if (failure != null) {
            return;
        }
        failure = t;
        if (exceptionHandler != null) {
            exceptionHandler.handle(t);
        }
    }

    HttpServerRequest request() {
        return request;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        this.exceptionHandler = handler;
        if (failure != null && handler != null) {
            handler.handle(failure);
        }
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        request.handler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        request.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        sendContinueIfExpected();
        request.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        sendContinueIfExpected();
        request.fetch(amount);
        return this;
    }

    private void sendContinueIfExpected() {
        if (expectsContinue(request) && ctx.get(CONTINUE_SENT) == null && !ctx.response().closed()) {
            ctx.put(CONTINUE_SENT, Boolean.TRUE);
            ctx.response().writeContinue();
        }
    }

    /** Whether the client waits for "100 Continue" before sending its body. */
    static boolean expectsContinue(HttpServerRequest request) {
        String expect = request.getHeader("Expect");
        return expect != null && expect.equalsIgnoreCase("100-continue");
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        request.endHandler(endHandler);
        return this;
    }
}
