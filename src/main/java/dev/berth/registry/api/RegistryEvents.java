package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.manifest.Descriptor;
import dev.berth.manifest.Manifest;
import dev.berth.notify.Event;
import dev.berth.notify.Outbox;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.BlobInfo;
import dev.berth.registry.store.PutManifestResult;
import dev.berth.registry.store.StoredManifest;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Turns what a handler did into events (push, pull, mount, delete of blobs, manifests and tags) and
 * records them; handlers answer the client only once the returned future has completed, so an
 * acknowledged request always has its events in the outbox. When nothing subscribes to events,
 * this costs nothing.
 */
final class RegistryEvents {
    private static final String BLOB_MEDIA_TYPE = "application/octet-stream";
    private static final String REQUEST_ID = "berth.requestId";

    private final Outbox outbox;
    private final Event.Source source;

    RegistryEvents(Outbox outbox, Event.Source source) {
        this.outbox = outbox;
        this.source = source;
    }

    Future<Void> blobPushed(RoutingContext ctx, RepositoryName repo, BlobInfo blob) {
        return record(ctx, Event.PUSH, () -> blobTarget(ctx, repo, blob, null));
    }

    Future<Void> blobMounted(RoutingContext ctx, RepositoryName repo, BlobInfo blob, Optional<RepositoryName> from) {
        return record(ctx, Event.MOUNT, () -> blobTarget(ctx, repo, blob, from.map(RepositoryName::value).orElse(null)));
    }

    Future<Void> blobPulled(RoutingContext ctx, RepositoryName repo, BlobInfo blob) {
        return record(ctx, Event.PULL, () -> blobTarget(ctx, repo, blob, null));
    }

    Future<Void> blobDeleted(RoutingContext ctx, RepositoryName repo, Digest digest) {
        return record(ctx, Event.DELETE, () -> new Event.Target(null, null, digest.toString(), null, repo.value(),
                null, null, null, null));
    }

    /** One event per tag the push set (by tag, or by digest with {@code ?tag=}); one untagged event otherwise. */
    Future<Void> manifestPushed(RoutingContext ctx, RepositoryName repo, PutManifestResult result) {
        if (outbox.isIdle()) {
            return Future.succeededFuture();
        }
        List<Event> events = new ArrayList<>();
        List<Tag> tags = result.tags().isEmpty() ? java.util.Collections.singletonList(null) : result.tags();
        for (Tag tag : tags) {
            events.add(event(ctx, Event.PUSH, manifestTarget(ctx, repo, result.digest(), result.manifest(),
                    result.size(), tag)));
        }
        return outbox.record(events);
    }

    Future<Void> manifestPulled(RoutingContext ctx, RepositoryName repo, StoredManifest m, Optional<Tag> tag) {
        return record(ctx, Event.PULL, () -> manifestTarget(ctx, repo, m.digest(), m.manifest(), m.bytes().length,
                tag.orElse(null)));
    }

    Future<Void> manifestDeleted(RoutingContext ctx, RepositoryName repo, Digest digest) {
        return record(ctx, Event.DELETE, () -> new Event.Target(null, null, digest.toString(), null, repo.value(),
                null, null, null, null));
    }

    Future<Void> tagDeleted(RoutingContext ctx, RepositoryName repo, Tag tag) {
        return record(ctx, Event.DELETE, () -> new Event.Target(null, null, null, null, repo.value(),
                null, null, tag.value(), null));
    }

    private Future<Void> record(RoutingContext ctx, String action, java.util.function.Supplier<Event.Target> target) {
        if (outbox.isIdle()) {
            return Future.succeededFuture();
        }
        return outbox.record(List.of(event(ctx, action, target.get())));
    }

    private Event event(RoutingContext ctx, String action, Event.Target target) {
        HttpServerRequest request = ctx.request();
        String requestId = ctx.get(REQUEST_ID);
        if (requestId == null) {
            requestId = UUID.randomUUID().toString();
            ctx.put(REQUEST_ID, requestId);
        }
        SocketAddress remote = request.remoteAddress();
        return new Event(UUID.randomUUID().toString(), Instant.now().toString(), action, target,
                new Event.Request(requestId, remote == null ? null : remote.hostAddress() + ":" + remote.port(),
                        host(request), request.method().name(), request.getHeader("User-Agent")),
                null, source);
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
