package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.BlobInfo;
import dev.berth.registry.store.BlobReader;
import dev.berth.registry.store.BlobStore;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.NoSuchFileException;
import java.util.Map;

/** {@code GET}/{@code HEAD}/{@code DELETE /v2/<name>/blobs/<digest>}. */
final class BlobHandler {
    private final BlobStore blobs;
    private final boolean deleteEnabled;
    private final RegistryEvents events;

    BlobHandler(BlobStore blobs, boolean deleteEnabled, RegistryEvents events) {
        this.blobs = blobs;
        this.deleteEnabled = deleteEnabled;
        this.events = events;
    }

    /**
     * GET and HEAD: the blob, or one range of it. From a local file with zero copy (sendfile), opened
     * and closed on the worker pool; otherwise by redirect when the driver offers one, else in chunks.
     */
    void get(RoutingContext ctx) {
        RepositoryName repo = RequestValues.repository(ctx);
        Digest digest = RequestValues.pathDigest(ctx);
        blobs.stat(repo, digest).onSuccess(found -> {
            if (found.isEmpty()) {
                ctx.fail(new RegistryException(ErrorCode.BLOB_UNKNOWN, Map.of("digest", digest.toString())));
                return;
            }
            serve(ctx, repo, found.get());
        }).onFailure(ctx::fail);
    }

    private void serve(RoutingContext ctx, RepositoryName repo, BlobInfo blob) {
        HttpServerResponse response = ctx.response();
        String digest = blob.digest().toString();
        long size = blob.size();
        ByteRange range;
        try {
            range = ByteRange.ofRequest(ctx.request().getHeader(RegistryHeaders.RANGE), size);
        } catch (ByteRange.Unsatisfiable e) {
            ctx.fail(new RegistryException(ErrorCode.RANGE_NOT_SATISFIABLE,
                    Map.of("range", String.valueOf(ctx.request().getHeader(RegistryHeaders.RANGE)), "size", size))
                    .header(HttpHeaders.CONTENT_RANGE.toString(), "bytes */" + size));
            return;
        }
        contentHeaders(response, digest).putHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
        if (("\"" + digest + "\"").equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
            response.setStatusCode(304).end();
            return;
        }
        long offset = range == null ? 0 : range.start();
        long length = range == null ? size : range.length();
        if (range != null) {
            response.setStatusCode(206)
                    .putHeader(HttpHeaders.CONTENT_RANGE, "bytes " + range.start() + "-" + range.end() + "/" + size);
        }
        if (ctx.request().method() == HttpMethod.HEAD) {
            response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length)).end();
            return;
        }
        events.blobPulled(ctx, repo, blob).onSuccess(v -> send(ctx, blob, range, offset, length)).onFailure(ctx::fail);
    }

    /** The headers of every blob body: digest, ETag, immutable caching, octet-stream. */
    static HttpServerResponse contentHeaders(HttpServerResponse response, String digest) {
        return response.putHeader(RegistryHeaders.CONTENT_DIGEST, digest)
                .putHeader(HttpHeaders.ETAG, "\"" + digest + "\"")
                .putHeader(HttpHeaders.CACHE_CONTROL, "max-age=31536000")
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
    }

    private void send(RoutingContext ctx, BlobInfo blob, ByteRange range, long offset, long length) {
        HttpServerResponse response = ctx.response();
        String digest = blob.digest().toString();
        if (blobs.hasLocalFiles(blob.digest())) {
            blobs.openLocal(blob.digest()).onSuccess(channel -> response.sendFile(channel, offset, length)
                    .onComplete(ar -> {
                        blobs.close(channel);
                        if (ar.failed()) {
                            ctx.fail(ar.cause());
                        }
                    })).onFailure(err -> ctx.fail(err instanceof NoSuchFileException
                            ? new RegistryException(ErrorCode.BLOB_UNKNOWN, Map.of("digest", digest))
                            : err));
            return;
        }
        blobs.redirectUrl(blob.digest(), "GET").onSuccess(url -> {
            if (url.isPresent()) {
                // The store serves the bytes, ranges included: clients repeat their Range header there.
                // The URL expires: the redirect must not be cached like the content it points at.
                response.headers().remove(HttpHeaders.CONTENT_RANGE).remove(HttpHeaders.ETAG);
                response.putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
                response.setStatusCode(307).putHeader(HttpHeaders.LOCATION, url.get().toString())
                        .putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
            } else {
                response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length));
                blobs.open(blob.digest(), offset, length).onSuccess(reader -> {
                    if (response.closed()) {
                        reader.close(); // the client left while the reader opened: no end event will come
                        return;
                    }
                    // Whether the response completes or the client goes away, the reader is closed.
                    ctx.addEndHandler(ar -> reader.close());
                    pump(ctx, reader);
                }).onFailure(ctx::fail);
            }
        }).onFailure(ctx::fail);
    }

    /**
     * Copies chunks to the response, waiting for the socket to drain between them; stops when the
     * client is gone (a closed connection never drains).
     */
    private static void pump(RoutingContext ctx, BlobReader reader) {
        HttpServerResponse response = ctx.response();
        if (response.closed()) {
            return;
        }
        reader.next().onSuccess(chunk -> {
            if (response.closed()) {
                return;
            }
            if (chunk.length() == 0) {
                response.end();
                return;
            }
            response.write(chunk);
            if (response.writeQueueFull()) {
                response.drainHandler(v -> {
                    response.drainHandler(null);
                    pump(ctx, reader);
                });
            } else {
                pump(ctx, reader);
            }
        }).onFailure(ctx::fail);
    }

    /** DELETE: unlinks the blob from the repository (202), or 404 when it did not hold it. */
    void delete(RoutingContext ctx) {
        if (!deleteEnabled) {
            ctx.fail(new RegistryException(ErrorCode.UNSUPPORTED, "deletes are disabled (registry.deleteEnabled)"));
            return;
        }
        RepositoryName repo = RequestValues.repository(ctx);
        Digest digest = RequestValues.pathDigest(ctx);
        blobs.unlink(repo, digest, events.blobDeleted(ctx, repo)).onSuccess(removed -> {
            if (!removed) {
                ctx.fail(new RegistryException(ErrorCode.BLOB_UNKNOWN, Map.of("digest", digest.toString())));
                return;
            }
            ctx.response().setStatusCode(202).putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
        }).onFailure(ctx::fail);
    }
}
