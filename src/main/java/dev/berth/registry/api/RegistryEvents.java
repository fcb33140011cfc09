package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.manifest.Descriptor;
import dev.berth.manifest.Manifest;
import dev.berth.notify.Event;
import dev.berth.notify.Outbox;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.BlobInfo;
import dev.berth.registry.store.ChangeHook;
import dev.berth.registry.store.DeletedManifest;
import dev.berth.registry.store.PutManifestResult;
import dev.berth.registry.store.StoredManifest;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Turns what a handler did into events (push, pull, mount, delete of blobs, manifests and tags) and
 * records them before the client is answered, so an acknowledged request always has its events in
 * the outbox. Changes are recorded through {@link ChangeHook}s inside the store's repository lock
 * (ordered like the changes; deletes recorded before anything is removed); pulls on the event loop.
 * When nothing subscribes to events, this costs nothing.
 */
final class RegistryEvents {
    private static final String BLOB_MEDIA_TYPE = "application/octet-stream";
    private static final String REQUEST_ID = "berth.requestId";

    /** Told of every pull in this process, whether or not anything subscribes to events. */
    interface PullListener {
        void pulled(RepositoryName repo, Digest digest);
    }

    private final Outbox outbox;
    private final Event.Source source;
    private final PullListener pulls;

    RegistryEvents(Outbox outbox, Event.Source source, PullListener pulls) {
        this.outbox = outbox;
        this.source = source;
        this.pulls = pulls;
    }

    // Changes: hooks the store runs while it holds the repository's lock, so that events are ordered
    // like the changes and a delete's event is committed before anything is removed.

    ChangeHook<BlobInfo> blobPushed(RoutingContext ctx, RepositoryName repo) {
        return blob -> recordBlocking(ctx, Event.PUSH, () -> blobTarget(ctx, repo, blob, null));
    }

    ChangeHook<BlobInfo> blobMounted(RoutingContext ctx, RepositoryName repo, Optional<RepositoryName> from) {
        return blob -> recordBlocking(ctx, Event.MOUNT,
                () -> blobTarget(ctx, repo, blob, from.map(RepositoryName::value).orElse(null)));
    }

    ChangeHook<Digest> blobDeleted(RoutingContext ctx, RepositoryName repo) {
        return digest -> recordBlocking(ctx, Event.DELETE, () -> new Event.Target(null, null, digest.toString(), null,
                repo.value(), null, null, null, null));
    }

    /** One event per tag the push set (by tag, or by digest with {@code ?tag=}); one untagged event otherwise. */
    ChangeHook<PutManifestResult> manifestPushed(RoutingContext ctx, RepositoryName repo) {
        return result -> {
            if (outbox.isIdle()) {
                return;
            }
            List<Event> events = new ArrayList<>();
            List<Tag> tags = result.tags().isEmpty() ? Collections.singletonList(null) : result.tags();
            for (Tag tag : tags) {
                events.add(event(ctx, Event.PUSH, manifestTarget(ctx, repo, result.digest(), result.manifest(),
                        result.size(), tag)));
            }
            outbox.recordBlocking(events);
        };
    }

    /** The manifest's delete event, and one for every tag that goes with it. */
    ChangeHook<DeletedManifest> manifestDeleted(RoutingContext ctx, RepositoryName repo) {
        return deleted -> {
            if (outbox.isIdle()) {
                return;
            }
            List<Event> events = new ArrayList<>();
            events.add(event(ctx, Event.DELETE, new Event.Target(null, null, deleted.digest().toString(), null,
                    repo.value(), null, null, null, null)));
            for (Tag tag : deleted.tags()) {
                events.add(event(ctx, Event.DELETE, tagTarget(repo, tag)));
            }
            outbox.recordBlocking(events);
        };
    }

    ChangeHook<Tag> tagDeleted(RoutingContext ctx, RepositoryName repo) {
        return tag -> recordBlocking(ctx, Event.DELETE, () -> tagTarget(repo, tag));
    }

    // Pulls change nothing: recorded on the event loop before the answer.

    Future<Void> blobPulled(RoutingContext ctx, RepositoryName repo, BlobInfo blob) {
        pulls.pulled(repo, blob.digest());
        if (outbox.isIdle()) {
            return Future.succeededFuture();
        }
        return outbox.record(List.of(event(ctx, Event.PULL, blobTarget(ctx, repo, blob, null))));
    }

    Future<Void> manifestPulled(RoutingContext ctx, RepositoryName repo, StoredManifest m, Optional<Tag> tag) {
        pulls.pulled(repo, m.digest());
        if (outbox.isIdle()) {
            return Future.succeededFuture();
        }
        return outbox.record(List.of(event(ctx, Event.PULL, manifestTarget(ctx, repo, m.digest(), m.manifest(),
                m.bytes().length, tag.orElse(null)))));
    }

    private void recordBlocking(RoutingContext ctx, String action, Supplier<Event.Target> target) throws Exception {
        if (!outbox.isIdle()) {
            outbox.recordBlocking(List.of(event(ctx, action, target.get())));
        }
    }

    private static Event.Target tagTarget(RepositoryName repo, Tag tag) {
        return new Event.Target(null, null, null, null, repo.value(), null, null, tag.value(), null);
    }

    private Event event(RoutingContext ctx, String action, Event.Target target) {
        HttpServerRequest request = ctx.request();
        String requestId = ctx.get(REQUEST_ID);
        if (requestId == null) {
            requestId = UUID.randomUUID().toString();
            ctx.put(REQUEST_ID, requestId);
        }
        SocketAddress remote = request.remoteAddress();
        String addr = remote == null ? "" : (remote.hostAddress().contains(":") ? "[" + remote.hostAddress() + "]"
                : remote.hostAddress()) + ":" + remote.port();
        String userAgent = request.getHeader("User-Agent");
        return new Event(UUID.randomUUID().toString(), Instant.now().toString(), action, target,
                new Event.Request(requestId, addr, host(request), request.method().name(),
                        userAgent == null ? "" : userAgent),
                Event.Actor.ANONYMOUS, source);
    }

    private static String host(HttpServerRequest request) {
        String host = request.getHeader("Host");
        return host != null ? host : request.localAddress() == null ? "localhost"
                : request.localAddress().hostAddress() + ":" + request.localAddress().port();
    }

    private static String url(RoutingContext ctx, RepositoryName repo, String kind, Digest digest) {
        return ctx.request().scheme() + "://" + host(ctx.request()) + "/v2/" + repo.value() + "/" + kind + "/" + digest;
    }

    private static Event.Target blobTarget(RoutingContext ctx, RepositoryName repo, BlobInfo blob, String from) {
        return new Event.Target(BLOB_MEDIA_TYPE, blob.size(), blob.digest().toString(), blob.size(), repo.value(),
                from, url(ctx, repo, "blobs", blob.digest()), null, null);
    }

    private static Event.Target manifestTarget(RoutingContext ctx, RepositoryName repo, Digest digest, Manifest manifest,
                                               long size, Tag tag) {
        List<Event.Reference> references = new ArrayList<>();
        List<Descriptor> referenced = new ArrayList<>();
        if (manifest.config() != null) {
            referenced.add(manifest.config());
        }
        referenced.addAll(manifest.layers());
        referenced.addAll(manifest.manifests());
        for (Descriptor d : referenced) {
            references.add(new Event.Reference(d.mediaType(), d.size(), d.digest().toString()));
        }
        return new Event.Target(manifest.mediaType(), size, digest.toString(), size, repo.value(), null,
                url(ctx, repo, "manifests", digest), tag == null ? null : tag.value(), references);
    }
}
