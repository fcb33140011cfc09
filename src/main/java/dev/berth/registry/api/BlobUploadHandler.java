package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.BlobInfo;
import dev.berth.registry.store.BlobStore;
import dev.berth.registry.store.BlobUpload;
import dev.berth.registry.store.DigestMismatchException;
import dev.berth.registry.store.UploadId;
import dev.berth.registry.store.UploadStore;
import dev.berth.registry.store.UploadUnknownException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Blob uploads: {@code POST /v2/<name>/blobs/uploads/} (session, monolithic with {@code ?digest=},
 * or cross-repository mount) and {@code GET}/{@code PATCH}/{@code PUT}/{@code DELETE} on the session.
 *
 * <p>Every handler that may read a body pauses the request first: the body flows only once the
 * session is known and locked, straight into storage.
 */
final class BlobUploadHandler {
    private final UploadStore uploads;
    private final BlobStore blobs;
    private final RegistryEvents events;

    BlobUploadHandler(UploadStore uploads, BlobStore blobs, RegistryEvents events) {
        this.uploads = uploads;
        this.blobs = blobs;
        this.events = events;
    }

    /** POST: mount, monolithic upload, or a new session. */
    void start(RoutingContext ctx) {
        RequestBody body = new RequestBody(ctx);
        HttpServerRequest request = ctx.request();
        RepositoryName repo = RequestValues.repository(ctx);
        String mount = request.getParam("mount");
        List<String> digests = request.params().getAll("digest");
        if (mount != null && ctx.get(dev.berth.auth.RegistryAuthHandler.NO_MOUNT) != null) {
            // The client may not read the source: an ordinary session instead, as for bad mount arguments.
            newSession(ctx, body, repo);
            return;
        }
        if (mount != null) {
            Optional<Digest> mountDigest = Digest.isDigest(mount) ? Optional.of(Digest.parse(mount)) : Optional.empty();
            String from = request.getParam("from");
            boolean fromValid = from == null || RepositoryName.isValid(from);
            if (mountDigest.isPresent() && fromValid) {
                Optional<RepositoryName> source = Optional.ofNullable(from).map(RepositoryName::of);
                blobs.mount(repo, mountDigest.get(), source, events.blobMounted(ctx, repo, source))
                        .onSuccess(mounted -> {
                            if (mounted.isPresent()) {
                                body.resume();
                                created(ctx, repo, mounted.get());
                            } else {
                                newSession(ctx, body, repo);
                            }
                        }).onFailure(ctx::fail);
                return;
            }
            // The spec: a mount with bad arguments falls back to an ordinary upload session.
            newSession(ctx, body, repo);
            return;
        }
        if (!digests.isEmpty()) {
            List<Digest> expected = digests.stream().map(RequestValues::digest).toList();
            uploads.start(repo).onSuccess(upload -> {
                upload.tryLock();
                finishLocked(ctx, body, upload, expected, null).onComplete(ar -> {
                    upload.unlock();
                    if (ar.succeeded()) {
                        ar.result().run();
                    } else {
                        uploads.cancel(upload); // its id was never given out: nobody could resume it
                        ctx.fail(ar.cause());
                    }
                });
            }).onFailure(ctx::fail);
            return;
        }
        newSession(ctx, body, repo);
    }

    private void newSession(RoutingContext ctx, RequestBody body, RepositoryName repo) {
        body.resume(); // a POST without ?digest= has no body worth keeping; let it flow and be dropped
        uploads.start(repo).onSuccess(upload -> {
            progress(ctx.response().setStatusCode(202), upload);
            ctx.response().end();
        }).onFailure(ctx::fail);
    }

    /** GET: where the upload stands. */
    void status(RoutingContext ctx) {
        withSession(ctx, false, upload -> Future.succeededFuture(() -> {
            progress(ctx.response().setStatusCode(204), upload);
            ctx.response().end();
        }));
    }

    /** PATCH: appends a chunk (with Content-Range) or a stream (without). */
    void patch(RoutingContext ctx) {
        RequestBody body = new RequestBody(ctx);
        ByteRange chunk = contentRange(ctx);
        withSession(ctx, true, upload -> {
            checkChunk(ctx, upload, chunk);
            return uploads.append(upload, body).compose(size -> {
                checkReceived(upload, chunk);
                return Future.<Runnable>succeededFuture(() -> {
                    progress(ctx.response().setStatusCode(202), upload);
                    ctx.response().end();
                });
            });
        });
    }

    /** PUT ?digest=: completes the session, optionally with a last chunk in the body. */
    void complete(RoutingContext ctx) {
        RequestBody body = new RequestBody(ctx);
        List<String> digests = ctx.request().params().getAll("digest");
        if (digests.isEmpty()) {
            ctx.fail(new RegistryException(ErrorCode.DIGEST_INVALID, "digest parameter is required", null));
            return;
        }
        List<Digest> expected = digests.stream().map(RequestValues::digest).toList();
        ByteRange chunk = contentRange(ctx);
        withSession(ctx, true, upload -> {
            checkChunk(ctx, upload, chunk);
            return finishLocked(ctx, body, upload, expected, chunk);
        });
    }

    /** DELETE: cancels the session and drops its data. */
    void cancel(RoutingContext ctx) {
        withSession(ctx, true, upload -> uploads.cancel(upload).map(v -> () -> ctx.response().setStatusCode(204).end()));
    }

    /**
     * Opens the session named in the path; with {@code lock}, claims it for this request (a session
     * already being written gets 400). {@code work} completes with the response to send, which is
     * sent only after the session is released.
     */
    private void withSession(RoutingContext ctx, boolean lock, Function<BlobUpload, Future<Runnable>> work) {
        RepositoryName repo = RequestValues.repository(ctx);
        String uuid = ctx.pathParam("uuid");
        if (!UploadId.isValid(uuid)) {
            ctx.fail(unknownUpload(uuid));
            return;
        }
        uploads.open(repo, new UploadId(uuid)).onSuccess(upload -> {
            if (lock && !upload.tryLock()) {
                ctx.fail(new RegistryException(ErrorCode.BLOB_UPLOAD_INVALID,
                        "another request is writing to this upload", Map.of("uuid", uuid)));
                return;
            }
            if (lock && upload.isRemoved()) {
                // Completed, cancelled or purged while this request was on its way.
                upload.unlock();
                ctx.fail(unknownUpload(uuid));
                return;
            }
            Future<Runnable> done;
            try {
                done = work.apply(upload);
            } catch (RuntimeException e) {
                done = Future.failedFuture(e);
            }
            done.onComplete(ar -> {
                // Release before answering: the client's next request may already be on another event loop.
                if (lock) {
                    upload.unlock();
                }
                if (ar.succeeded()) {
                    ar.result().run();
                } else {
                    ctx.fail(ar.cause());
                }
            });
        }).onFailure(err -> ctx.fail(err instanceof UploadUnknownException ? unknownUpload(uuid) : err));
    }

    private static RegistryException unknownUpload(String uuid) {
        return new RegistryException(ErrorCode.BLOB_UPLOAD_UNKNOWN, Map.of("uuid", String.valueOf(uuid)));
    }

    /** The request's Content-Range, or null; a malformed one is a 416. */
    private static ByteRange contentRange(RoutingContext ctx) {
        String header = ctx.request().getHeader(HttpHeaders.CONTENT_RANGE);
        if (header == null) {
            return null;
        }
        try {
            return ByteRange.ofUploadChunk(header);
        } catch (ByteRange.Unsatisfiable e) {
            throw new RegistryException(ErrorCode.BLOB_UPLOAD_RANGE_INVALID, Map.of("contentRange", header));
        }
    }

    /** A chunk must start where the upload ends and, with a Content-Length, be as long as its range. */
    private static void checkChunk(RoutingContext ctx, BlobUpload upload, ByteRange chunk) {
        if (chunk == null) {
            return;
        }
        if (chunk.start() != upload.size()) {
            RegistryException e = new RegistryException(ErrorCode.BLOB_UPLOAD_RANGE_INVALID,
                    Map.of("expectedStart", upload.size(), "contentRange", chunk.start() + "-" + chunk.end()));
            progressHeaders(upload).forEach(e::header);
            throw e;
        }
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && !length.equals(Long.toString(chunk.length()))) {
            throw new RegistryException(ErrorCode.SIZE_INVALID,
                    Map.of("contentLength", length, "contentRange", chunk.start() + "-" + chunk.end()));
        }
    }

    /**
     * A chunk sent without Content-Length (chunked encoding) is only known to match its Content-Range
     * once it has arrived; a mismatch is reported with the upload's actual range.
     */
    private static void checkReceived(BlobUpload upload, ByteRange chunk) {
        if (chunk != null && upload.size() != chunk.end() + 1) {
            RegistryException e = new RegistryException(ErrorCode.BLOB_UPLOAD_RANGE_INVALID,
                    Map.of("contentRange", chunk.start() + "-" + chunk.end(), "received", upload.size() - chunk.start()));
            progressHeaders(upload).forEach(e::header);
            throw e;
        }
    }

    /**
     * Appends whatever body there is and verifies every named digest; completes with the 201 to send.
     * A mismatch cancels the session.
     */
    private Future<Runnable> finishLocked(RoutingContext ctx, RequestBody body, BlobUpload upload,
                                          List<Digest> expected, ByteRange chunk) {
        Future<Long> appended = "0".equals(ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH))
                ? Future.succeededFuture(upload.size()).onComplete(ar -> body.resume())
                : uploads.append(upload, body);
        return appended
                .compose(size -> {
                    checkReceived(upload, chunk);
                    return uploads.complete(upload, expected.get(0), events.blobPushed(ctx, upload.repository()));
                })
                .compose(blob -> verifyOthers(upload, blob, expected))
                .recover(err -> err instanceof DigestMismatchException
                        ? uploads.cancel(upload).compose(v -> Future.failedFuture(err))
                        : Future.failedFuture(err))
                .map(blob -> () -> created(ctx, upload.repository(), blob));
    }

    /**
     * Further {@code digest} parameters (the spec allows several) must name the same content: any
     * other value of the first one's algorithm is a mismatch; other algorithms are not checked.
     */
    private static Future<BlobInfo> verifyOthers(BlobUpload upload, BlobInfo blob, List<Digest> expected) {
        for (Digest d : expected.subList(1, expected.size())) {
            if (d.algorithm() == blob.digest().algorithm() && !d.equals(blob.digest())) {
                return Future.failedFuture(new DigestMismatchException(d, blob.digest()));
            }
        }
        return Future.succeededFuture(blob);
    }

    private static void created(RoutingContext ctx, RepositoryName repo, BlobInfo blob) {
        ctx.response().setStatusCode(201)
                .putHeader(HttpHeaders.LOCATION, "/v2/" + repo + "/blobs/" + blob.digest())
                .putHeader(RegistryHeaders.CONTENT_DIGEST, blob.digest().toString())
                .putHeader(HttpHeaders.CONTENT_LENGTH, "0")
                .end();
    }

    private static void progress(HttpServerResponse response, BlobUpload upload) {
        progressHeaders(upload).forEach(response::putHeader);
        response.putHeader(HttpHeaders.CONTENT_LENGTH, "0");
    }

    /** Location, Range (inclusive end, "0-0" when empty, as the reference registry writes it) and session id. */
    private static Map<String, String> progressHeaders(BlobUpload upload) {
        long size = upload.size();
        return Map.of(
                HttpHeaders.LOCATION.toString(), "/v2/" + upload.repository() + "/blobs/uploads/" + upload.id(),
                RegistryHeaders.RANGE, "0-" + Math.max(0, size - 1),
                RegistryHeaders.UPLOAD_UUID, upload.id().value(),
                RegistryHeaders.UPLOAD_SESSION_ID, upload.id().value());
    }
}
