package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.mirror.Mirror;
import dev.berth.mirror.Mirror.Outcome;
import dev.berth.mirror.Mirror.Route;
import dev.berth.mirror.UpstreamException;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.RegistryStore;
import io.vertx.core.Future;
import dev.berth.registry.store.BlobInfo;
import dev.berth.registry.store.ChangeHook;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs before the manifest and blob handlers: when a request names a mirrored repository, the
 * content is brought into the mirror's cache repository (from the cache, or from the upstream),
 * and the usual handler then serves it from there. Writes into mirrored namespaces are refused.
 */
final class MirrorHandler {
    /** RFC 7234's warning for a response served stale because revalidation failed. */
    static final String STALE_WARNING = "110 - \"Response is Stale\"";

    private final Mirror mirror;
    private final RegistryStore store;
    private final RegistryEvents events;

    MirrorHandler(Mirror mirror, RegistryStore store, RegistryEvents events) {
        this.mirror = mirror;
        this.store = store;
        this.events = events;
    }

    /** GET/HEAD of a manifest. */
    void manifest(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        if (!RepositoryName.isValid(name)) {
            ctx.next();
            return;
        }
        Reference ref = RequestValues.reference(ctx);
        List<String> accept = ctx.request().headers().getAll(HttpHeaders.ACCEPT);
        route(ctx, name, local -> store.manifests().get(local, ref).map(Optional::isPresent), (r, overlay) ->
                mirror.manifest(r, ref, accept).onSuccess(outcome -> {
                    if (overlay && outcome == Outcome.NOT_FOUND) {
                        ctx.next(); // the local repository answers (a name being pushed to)
                        return;
                    }
                    serve(ctx, r, outcome, () -> new RegistryException(ErrorCode.MANIFEST_UNKNOWN,
                            Map.of("reference", ref.toString(), "upstream", r.upstream().name())));
                }).onFailure(e -> fail(ctx, e, overlay)));
    }

    /** GET/HEAD of a blob. */
    void blob(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        if (!RepositoryName.isValid(name)) {
            ctx.next();
            return;
        }
        Digest digest = RequestValues.pathDigest(ctx);
        route(ctx, name, local -> store.blobs().stat(local, digest).map(Optional::isPresent), (r, overlay) -> {
            // A whole-blob GET that brings the blob in is answered while the blob is stored.
            ClientTee tee = ctx.request().method() == HttpMethod.GET && ctx.request().getHeader(RegistryHeaders.RANGE) == null
                    ? new ClientTee(ctx, r, digest) : null;
            mirror.blob(r, digest, tee).compose(outcome -> overlay && outcome != Outcome.NOT_FOUND
                    ? linkLocally(r, name, digest).map(outcome) : Future.succeededFuture(outcome)).onSuccess(outcome -> {
                if (tee != null && tee.opened) {
                    return; // sent as it arrived (ended with the fetch)
                }
                if (overlay && outcome == Outcome.NOT_FOUND) {
                    ctx.next(); // the local repository answers: a client pushing there then uploads it
                    return;
                }
                // A request that waited for another one's fetch was a miss like it, not a cache hit.
                serve(ctx, r, outcome == Outcome.STREAMED ? Outcome.FETCHED : outcome, () ->
                        new RegistryException(ErrorCode.BLOB_UNKNOWN, Map.of("digest", digest.toString(),
                                "upstream", r.upstream().name())));
            }).onFailure(e -> fail(ctx, e, overlay && !(tee != null && tee.opened)));
        });
    }

    /**
     * Under a name that takes pushes, a blob the upstream has is linked into the local repository
     * too: clients check with a HEAD before pushing and skip what exists, and the manifest they push
     * next must find it there.
     */
    private Future<Void> linkLocally(Route r, String name, Digest digest) {
        return store.blobs().mount(RepositoryName.of(name), digest, Optional.of(r.cacheRepository()),
                ChangeHook.none()).mapEmpty();
    }

    /** The response of the request whose fetch brings a blob, written as the blob arrives. */
    private final class ClientTee implements Mirror.Tee {
        private final RoutingContext ctx;
        private final Route route;
        private final Digest digest;
        boolean opened;

        ClientTee(RoutingContext ctx, Route route, Digest digest) {
            this.ctx = ctx;
            this.route = route;
            this.digest = digest;
        }

        @Override
        public WriteStream<Buffer> open(long length) {
            HttpServerResponse response = ctx.response();
            if (response.closed()) {
                return null;
            }
            opened = true;
            BlobHandler.contentHeaders(response.setStatusCode(200), digest.toString());
            if (length >= 0) {
                response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length));
                events.blobPulled(ctx, route.cacheRepository(), new BlobInfo(digest, length));
            } else {
                response.setChunked(true);
            }
            return response;
        }

        @Override
        public void onClientGone(Runnable action) {
            ctx.response().closeHandler(v -> action.run());
        }
    }

    /** Writes (uploads, manifest PUT, deletes): refused in mirrored namespaces. */
    void write(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        if (RepositoryName.isValid(name) && mirror.refusesPush(name, ctx.request().getParam("ns"))) {
            ctx.fail(new RegistryException(ErrorCode.DENIED, "repository " + name + " is a mirror of an upstream "
                    + "registry; it cannot be written to", Map.of("name", name)));
            return;
        }
        ctx.next();
    }

    private interface LocalCheck {
        Future<Boolean> holds(RepositoryName local);
    }

    private interface Fetch {
        /**
         * @param overlay whether the name also takes pushes (its upstream has {@code allowPush}):
         *                what the upstream lacks or cannot say is then the local repository's to answer
         */
        void run(Route route, boolean overlay);
    }

    /**
     * An explicit route (ns, prefix) goes upstream, unless its upstream allows pushes and the local
     * repository of that name holds the content; otherwise the local repository answers when it
     * holds the content, and the default upstream when it does not.
     */
    private void route(RoutingContext ctx, String name, LocalCheck local, Fetch fetch) {
        String ns = ctx.request().getParam("ns");
        Optional<Route> explicit = mirror.route(name, ns);
        // A request for another registry's content (?ns= naming no upstream) never gets the default
        // upstream's instead: only what is stored locally under that name.
        Optional<Route> fallback = explicit.isPresent() ? explicit
                : ns == null || ns.isEmpty() ? mirror.defaultRoute(name) : Optional.empty();
        if (fallback.isEmpty()) {
            ctx.next();
            return;
        }
        boolean overlay = explicit.isPresent() && explicit.get().upstream().allowPush();
        if (explicit.isPresent() && !overlay) {
            fetch.run(explicit.get(), false); // nothing local can exist under a name that refuses pushes
            return;
        }
        local.holds(RepositoryName.of(name)).onSuccess(held -> {
            if (held) {
                ctx.next();
            } else {
                fetch.run(fallback.get(), overlay);
            }
        }).onFailure(ctx::fail);
    }

    private void serve(RoutingContext ctx, Route r, Outcome outcome,
                       java.util.function.Supplier<RegistryException> notFound) {
        if (outcome == Outcome.NOT_FOUND) {
            ctx.fail(notFound.get());
            return;
        }
        if (outcome == Outcome.STALE) {
            ctx.response().putHeader("Warning", STALE_WARNING);
        }
        if (outcome == Outcome.FRESH || outcome == Outcome.STALE) {
            String upstream = r.upstream().name();
            ctx.addBodyEndHandler(v -> mirror.stats().servedFromCache(upstream, ctx.response().bytesWritten()));
        }
        ctx.put(RequestValues.REPOSITORY_OVERRIDE, r.cacheRepository());
        ctx.next();
    }

    private static void fail(RoutingContext ctx, Throwable e, boolean overlay) {
        if (overlay && e instanceof UpstreamException) {
            ctx.next(); // the upstream cannot say: the local repository answers
            return;
        }
        if (e instanceof UpstreamException u) {
            ctx.fail(new RegistryException(ErrorCode.UNAVAILABLE, u.getMessage(),
                    Map.of("upstream", u.upstream(), "status", u.status())));
            return;
        }
        ctx.fail(e);
    }
}
