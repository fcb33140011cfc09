package dev.berth.registry.api;

import dev.berth.manifest.Descriptor;
import dev.berth.manifest.Platform;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.ManifestStore;
import dev.berth.registry.store.PutManifestResult;
import dev.berth.registry.store.StoredManifest;
import dev.berth.registry.store.TagStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code GET}/{@code HEAD}/{@code PUT}/{@code DELETE /v2/<name>/manifests/<reference>}. */
final class ManifestHandler {
    /** More {@code ?tag=} parameters than this are refused with 414 (the spec asks for at least 10). */
    static final int MAX_TAG_PARAMETERS = 100;

    private final ManifestStore manifests;
    private final TagStore tags;
    private final long maxManifestBytes;
    private final boolean deleteEnabled;
    private final RegistryEvents events;

    ManifestHandler(ManifestStore manifests, TagStore tags, long maxManifestBytes, boolean deleteEnabled,
                    RegistryEvents events) {
        this.manifests = manifests;
        this.tags = tags;
        this.maxManifestBytes = maxManifestBytes;
        this.deleteEnabled = deleteEnabled;
        this.events = events;
    }

    /** GET and HEAD, with Accept negotiation. */
    void get(RoutingContext ctx) {
        RepositoryName repo = RequestValues.repository(ctx);
        Reference ref = RequestValues.reference(ctx);
        AcceptedTypes accepted = AcceptedTypes.of(ctx.request().headers().getAll(HttpHeaders.ACCEPT));
        manifests.get(repo, ref).compose(found -> {
            if (found.isEmpty()) {
                return Future.failedFuture(unknown(ref));
            }
            StoredManifest m = found.get();
            if (accepted.accepts(m.mediaType())) {
                return Future.succeededFuture(m);
            }
            return fallbackForIndex(repo, ref, m, accepted);
        }).onSuccess(m -> send(ctx, repo, ref, m)).onFailure(ctx::fail);
    }

    /**
     * A client that asked by tag for an index but accepts only single manifests gets the
     * linux/amd64 entry, as the reference registry does for old Docker clients; otherwise 404.
     */
    private Future<StoredManifest> fallbackForIndex(RepositoryName repo, Reference ref, StoredManifest m,
                                                    AcceptedTypes accepted) {
        RegistryException notAcceptable = new RegistryException(ErrorCode.MANIFEST_UNKNOWN,
                "manifest of type " + m.mediaType() + " is not in the accepted types (" + accepted + ")",
                Map.of("reference", ref.toString(), "mediaType", m.mediaType()));
        if (!(ref instanceof Reference.ByTag) || !m.manifest().isIndex()) {
            return Future.failedFuture(notAcceptable);
        }
        for (Descriptor child : m.manifest().manifests()) {
            Platform p = child.platform();
            if (p != null && "linux".equals(p.os()) && "amd64".equals(p.architecture())
                    && accepted.accepts(child.mediaType())) {
                return manifests.get(repo, new Reference.ByDigest(child.digest()))
                        .compose(c -> c.isPresent() ? Future.succeededFuture(c.get()) : Future.failedFuture(notAcceptable));
            }
        }
        return Future.failedFuture(notAcceptable);
    }

    /** HEAD and 304 answers at once; a GET that sends the manifest is a pull, recorded first. */
    private void send(RoutingContext ctx, RepositoryName repo, Reference ref, StoredManifest m) {
        HttpServerResponse response = ctx.response();
        String digest = m.digest().toString();
        response.putHeader(HttpHeaders.CONTENT_TYPE, m.mediaType())
                .putHeader(RegistryHeaders.CONTENT_DIGEST, digest)
                .putHeader(HttpHeaders.ETAG, "\"" + digest + "\"");
        if (("\"" + digest + "\"").equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(m.bytes().length));
        if (ctx.request().method() == HttpMethod.HEAD) {
            response.end();
            return;
        }
        Optional<Tag> tag = ref instanceof Reference.ByTag byTag ? Optional.of(byTag.tag()) : Optional.empty();
        events.manifestPulled(ctx, repo, m, tag)
                .onSuccess(v -> response.end(Buffer.buffer(m.bytes())))
                .onFailure(ctx::fail);
    }

    /** PUT by tag or digest, with optional repeated {@code ?tag=}. */
    void put(RoutingContext ctx) {
        RequestBody body = new RequestBody(ctx);
        HttpServerRequest request = ctx.request();
        RepositoryName repo = RequestValues.repository(ctx);
        Reference ref = RequestValues.reference(ctx);
        List<String> tagParams = request.params().getAll("tag");
        if (tagParams.size() > MAX_TAG_PARAMETERS) {
            throw new RegistryException(ErrorCode.TOO_MANY_TAGS, Map.of("limit", MAX_TAG_PARAMETERS));
        }
        List<Tag> extraTags = tagParams.stream().map(RequestValues::tag).toList();
        String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
        readBody(body, request.getHeader(HttpHeaders.CONTENT_LENGTH), maxManifestBytes)
                .compose(bytes -> manifests.put(repo, ref, extraTags, bytes, contentType,
                        events.manifestPushed(ctx, repo)))
                .onSuccess(result -> created(ctx, repo, result, !extraTags.isEmpty()))
                .onFailure(ctx::fail);
    }

    private static void created(RoutingContext ctx, RepositoryName repo, PutManifestResult result, boolean echoTags) {
        HttpServerResponse response = ctx.response().setStatusCode(201)
                .putHeader(HttpHeaders.LOCATION, "/v2/" + repo + "/manifests/" + result.digest())
                .putHeader(RegistryHeaders.CONTENT_DIGEST, result.digest().toString())
                .putHeader(HttpHeaders.CONTENT_LENGTH, "0");
        if (result.subject() != null) {
            response.putHeader(RegistryHeaders.OCI_SUBJECT, result.subject().toString());
        }
        if (echoTags) {
            response.putHeader(RegistryHeaders.OCI_TAG, result.tags().stream().map(Tag::value).toList());
        }
        response.end();
    }

    /** The whole body, failing with 413 as soon as it exceeds {@code max} bytes (or declares more). */
    private static Future<byte[]> readBody(RequestBody request, String declared, long max) {
        RegistryException tooLarge = new RegistryException(ErrorCode.MANIFEST_TOO_LARGE, Map.of("limit", max));
        if (declared != null) {
            try {
                if (Long.parseLong(declared) > max) {
                    return Future.failedFuture(tooLarge);
                }
            } catch (NumberFormatException e) {
                return Future.failedFuture(new RegistryException(ErrorCode.SIZE_INVALID, Map.of("contentLength", declared)));
            }
        }
        Promise<byte[]> body = Promise.promise();
        Buffer received = Buffer.buffer();
        request.handler(chunk -> {
            if (received.length() + (long) chunk.length() > max) {
                request.pause();
                body.tryFail(tooLarge);
            } else {
                received.appendBuffer(chunk);
            }
        });
        request.exceptionHandler(body::tryFail);
        request.endHandler(v -> body.tryComplete(received.getBytes()));
        request.resume();
        return body.future();
    }

    /** DELETE by digest (the manifest and its tags) or by tag (the tag only). */
    void delete(RoutingContext ctx) {
        if (!deleteEnabled) {
            throw new RegistryException(ErrorCode.UNSUPPORTED, "deletes are disabled (registry.deleteEnabled)");
        }
        RepositoryName repo = RequestValues.repository(ctx);
        Reference ref = RequestValues.reference(ctx);
        Future<Boolean> deleted = ref instanceof Reference.ByTag byTag
                ? tags.untag(repo, byTag.tag(), events.tagDeleted(ctx, repo))
                : manifests.delete(repo, ((Reference.ByDigest) ref).digest(), events.manifestDeleted(ctx, repo));
        deleted.onSuccess(found -> {
            if (!found) {
                ctx.fail(unknown(ref));
                return;
            }
            ctx.response().setStatusCode(202).putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
        }).onFailure(ctx::fail);
    }

    private static RegistryException unknown(Reference ref) {
        return new RegistryException(ErrorCode.MANIFEST_UNKNOWN, Map.of("reference", ref.toString()));
    }
}
