package dev.berth.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.berth.config.BerthConfig.UpstreamConfig;
import dev.berth.digest.Digest;
import dev.berth.registry.store.DigestMismatchException;
import dev.berth.manifest.Manifest;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.ChangeHook;
import dev.berth.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pull-through mirror. A request reaches an upstream by the {@code ns} query parameter that
 * containerd and BuildKit send (the upstream whose {@code host} it names), by a path prefix, or, for
 * names no local repository holds, through the default upstream (what Docker daemons configured
 * with {@code registry-mirrors} ask for). What is fetched is kept in the store under the cache
 * repository {@code <upstream>.mirror/<upstream's name>}, byte-exact: manifests as the upstream sent
 * them (verified against their digest), blobs only once their digest verified. Manifests by tag are
 * revalidated with a HEAD upstream once {@code tagTtl} has passed; when the upstream is down or
 * failing, the cached tag is served (stale). Concurrent requests for the same content share one
 * upstream fetch.
 */
public final class Mirror implements AutoCloseable {
    /** The most manifest bytes taken from an upstream. */
    private static final Logger LOG = LoggerFactory.getLogger(Mirror.class);

    /** How a request reached its upstream. */
    public enum Via { NAMESPACE, PREFIX, DEFAULT }

    /** An upstream, its client, and the names a request maps to. */
    public record Route(UpstreamConfig upstream, UpstreamClient client, String upstreamRepository,
                        RepositoryName cacheRepository, Via via) {
    }

    /** What a request found. */
    public enum Outcome {
        /** Cached and current (or immutable): a hit. */
        FRESH,
        /** Fetched from the upstream now (by this request, or one it waited for), then cached. */
        FETCHED,
        /** Cached, but the upstream could not confirm it (down, 5xx, 429): served stale. */
        STALE,
        /** Neither cached nor upstream. */
        NOT_FOUND,
        /** Fetched now, and sent to the requesting client while it was being stored. */
        STREAMED
    }

    /**
     * Where a blob fetched for a client also goes while it is stored: asked once, by the request
     * whose fetch it is, when the upstream has answered; null to take no part.
     */
    public interface Tee {
        /**
         * @param length the blob's length as the upstream announced it, or -1
         * @return the client's stream (its status and headers already set), or null
         */
        WriteStream<Buffer> open(long length);

        /** Registers what to do when the client goes away. */
        void onClientGone(Runnable action);
    }

    private record Upstream(UpstreamConfig config, UpstreamClient client) {
    }

    private record TagKey(RepositoryName repo, Tag tag) {
    }

    private final List<Upstream> upstreams = new ArrayList<>();
    /** The first path segment of every cache repository, {@code <upstream>.mirror}. */
    private final java.util.Set<String> cacheRoots = new java.util.HashSet<>();
    private final RegistryStore store;
    private final MirrorStats stats;
    private final MirrorCache cache;
    private final Clock clock;
    private final ConcurrentMap<String, Future<?>> inFlight = new ConcurrentHashMap<>();
    /** When each cached tag was last confirmed by its upstream. */
    private final Cache<TagKey, Instant> validated = Caffeine.newBuilder().maximumSize(100_000).build();

    /**
     * @param stats the meters of every upstream in {@code configs}
     * @param cache where what is fetched is accounted for (and evicted from)
     */
    public Mirror(Vertx vertx, List<UpstreamConfig> configs, RegistryStore store, MirrorStats stats, MirrorCache cache,
                  Clock clock) {
        this.store = store;
        this.stats = stats;
        this.cache = cache;
        this.clock = clock;
        for (UpstreamConfig c : configs) {
            UpstreamClient client = new UpstreamClient(vertx, new UpstreamClient.Options(c.name(), URI.create(c.url()),
                    c.username(), c.password(), c.token(), c.timeout()), clock);
            upstreams.add(new Upstream(c, client));
            cacheRoots.add(c.name() + ".mirror");
        }
    }

    /**
     * The upstream a request names explicitly: by {@code ns} (an upstream's host), by a prefix, or by
     * its cache repository. Empty for names that are local (or reach the default upstream only when
     * the local store does not hold them: {@link #defaultRoute}).
     */
    public Optional<Route> route(String name, String ns) {
        if (ns != null && !ns.isEmpty()) {
            for (Upstream u : upstreams) {
                if (sameHost(u.config().host(), ns)) {
                    return Optional.of(route(u, name, Via.NAMESPACE));
                }
            }
            return Optional.empty();
        }
        for (Upstream u : upstreams) {
            String prefix = u.config().prefix();
            if (!prefix.isEmpty() && name.startsWith(prefix) && name.length() > prefix.length()) {
                return Optional.of(route(u, name.substring(prefix.length()), Via.PREFIX));
            }
        }
        return Optional.empty();
    }

    /** Where a name that no local repository holds goes: the default upstream, if there is one. */
    public Optional<Route> defaultRoute(String name) {
        for (Upstream u : upstreams) {
            if (u.config().isDefault()) {
                return Optional.of(route(u, name, Via.DEFAULT));
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a push to {@code name} (with {@code ns}) is refused: it is routed to an upstream that
     * does not allow pushes, or it names a cache repository.
     */
    public boolean refusesPush(String name, String ns) {
        Optional<Route> routed = route(name, ns);
        return routed.isPresent() && !routed.get().upstream().allowPush() || isCacheRepository(name);
    }

    /** Whether {@code name} is one of the cache repositories, {@code <upstream>.mirror/...}. */
    private boolean isCacheRepository(String name) {
        int slash = name.indexOf('/');
        return cacheRoots.contains(slash < 0 ? name : name.substring(0, slash));
    }

    private static boolean sameHost(String host, String ns) {
        if (host.isEmpty()) {
            return false;
        }
        String a = dockerHub(host.toLowerCase(Locale.ROOT));
        String b = dockerHub(ns.toLowerCase(Locale.ROOT));
        return a.equals(b);
    }

    /** Docker Hub goes by several names. */
    private static String dockerHub(String host) {
        return switch (host) {
            case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> "docker.io";
            default -> host;
        };
    }

    private static Route route(Upstream u, String name, Via via) {
        return new Route(u.config(), u.client(), name, RepositoryName.of(u.config().name() + ".mirror/" + name), via);
    }

    /**
     * Makes the manifest {@code ref} available in the route's cache repository: from the cache when
     * current, otherwise fetched (a tag revalidated with a HEAD first). {@code accept} goes upstream
     * as the client sent it, so the upstream chooses the same media type it would for the client.
     */
    public Future<Outcome> manifest(Route r, Reference ref, List<String> accept) {
        if (ref instanceof Reference.ByDigest byDigest) {
            cache.pulled(r.cacheRepository(), byDigest.digest()); // in use: not evicted while it is served
        }
        return counted(r, findManifest(r, ref, accept)).onSuccess(outcome -> {
            if (outcome != Outcome.NOT_FOUND) {
                touchReferences(r, ref);
            }
        });
    }

    /**
     * A manifest in use keeps what it references in use too (HEAD requests and clients that have
     * the layers already fetch none of them): its config, layers and child manifests count as
     * pulled now, so an image is not evicted piece by piece while its manifest is asked for.
     */
    private void touchReferences(Route r, Reference ref) {
        store.manifests().get(r.cacheRepository(), ref).onSuccess(found -> found.ifPresent(m -> {
            cache.pulled(r.cacheRepository(), m.digest());
            Manifest manifest = m.manifest();
            if (manifest.config() != null) {
                cache.pulled(r.cacheRepository(), manifest.config().digest());
            }
            manifest.layers().forEach(d -> cache.pulled(r.cacheRepository(), d.digest()));
            manifest.manifests().forEach(d -> cache.pulled(r.cacheRepository(), d.digest()));
        }));
    }

    private Future<Outcome> findManifest(Route r, Reference ref, List<String> accept) {
        if (ref instanceof Reference.ByDigest byDigest) {
            Digest digest = byDigest.digest();
            return store.manifests().get(r.cacheRepository(), ref).compose(cached -> cached.isPresent()
                    ? Future.succeededFuture(Outcome.FRESH)
                    : once(r, "m " + r.cacheRepository() + "@" + digest, () -> fetchManifest(r, digest.toString(), accept,
                    Optional.empty(), Optional.of(digest))));
        }
        Tag tag = ((Reference.ByTag) ref).tag();
        TagKey key = new TagKey(r.cacheRepository(), tag);
        Instant confirmed = validated.getIfPresent(key);
        return store.tags().resolve(r.cacheRepository(), tag).compose(cached -> {
            if (cached.isPresent() && confirmed != null
                    && confirmed.plus(r.upstream().tagTtl()).isAfter(clock.instant())) {
                return Future.succeededFuture(Outcome.FRESH);
            }
            return this.<Outcome>once(r, "t " + r.cacheRepository() + ":" + tag, () -> revalidate(r, tag, accept))
                    .recover(e -> cached.isPresent() && e instanceof UpstreamException u && u.isUnavailable()
                            ? Future.succeededFuture(Outcome.STALE) : Future.failedFuture(e));
        });
    }

    /** HEAD upstream: the same digest as cached needs only the tag moved; anything else is fetched. */
    private Future<Outcome> revalidate(Route r, Tag tag, List<String> accept) {
        String path = "/v2/" + r.upstreamRepository() + "/manifests/" + tag.value();
        return r.client().request(HttpMethod.HEAD, r.upstreamRepository(), path, accept).compose(head -> {
            int status = head.statusCode();
            String digestHeader = head.getHeader("Docker-Content-Digest");
            return UpstreamClient.readBody(head).transform(x -> {
                if (status == 404) {
                    validated.invalidate(new TagKey(r.cacheRepository(), tag));
                    return Future.succeededFuture(Outcome.NOT_FOUND);
                }
                if (status != 200) {
                    return Future.failedFuture(unexpected(r, status, path));
                }
                Optional<Digest> digest = parseDigest(digestHeader);
                if (digest.isEmpty()) {
                    return fetchManifest(r, tag.value(), accept, Optional.of(tag), Optional.empty());
                }
                return store.manifests().get(r.cacheRepository(), new Reference.ByDigest(digest.get())).compose(have -> {
                    if (have.isEmpty()) {
                        return fetchManifest(r, tag.value(), accept, Optional.of(tag), digest);
                    }
                    return store.manifests().retag(r.cacheRepository(), tag, digest.get()).compose(retagged -> {
                        if (!retagged) { // evicted since it was looked up: fetch it again
                            return fetchManifest(r, tag.value(), accept, Optional.of(tag), digest);
                        }
                        validated.put(new TagKey(r.cacheRepository(), tag), clock.instant());
                        return Future.succeededFuture(Outcome.FRESH);
                    });
                });
            });
        });
    }

    /** GET the manifest upstream, check its digest, keep it (and the tag). */
    private Future<Outcome> fetchManifest(Route r, String reference, List<String> accept, Optional<Tag> tag,
                                          Optional<Digest> expected) {
        String path = "/v2/" + r.upstreamRepository() + "/manifests/" + reference;
        return r.client().request(HttpMethod.GET, r.upstreamRepository(), path, accept).compose(resp -> {
            int status = resp.statusCode();
            String contentType = resp.getHeader("Content-Type");
            Optional<Digest> announced = parseDigest(resp.getHeader("Docker-Content-Digest"));
            return UpstreamClient.readBody(resp).recover(e -> Future.failedFuture(new UpstreamException(
                    r.upstream().name(), 502, "manifest " + path + ": " + e.getMessage(), e))).compose(body -> {
                if (status == 404) {
                    return Future.succeededFuture(Outcome.NOT_FOUND);
                }
                if (status != 200) {
                    return Future.failedFuture(unexpected(r, status, path));
                }
                byte[] bytes = body.getBytes();
                stats.fetched(r.upstream().name(), bytes.length);
                // Byte-exact: what the upstream sent must hash to what it (or the client) named; it is
                // kept under that digest (sha512 too), hashed once, on a worker.
                return store.manifests().cacheUpstream(r.cacheRepository(), bytes, contentType, tag,
                        expected.or(() -> announced)).recover(e -> Future.failedFuture(e instanceof DigestMismatchException m
                        ? new UpstreamException(r.upstream().name(), 502, "manifest " + path + " hashes to " + m.actual()
                                + ", not " + m.expected(), null) : e)).compose(d -> {
                    tag.ifPresent(t -> validated.put(new TagKey(r.cacheRepository(), t), clock.instant()));
                    return record(r, d, MirrorCache.Kind.MANIFEST, bytes.length).map(Outcome.FETCHED);
                });
            });
        });
    }

    /**
     * Makes blob {@code digest} available in the route's cache repository: cached, or fetched from
     * the upstream into the store (visible only once its digest verified). When this request's fetch
     * brings the blob, it is also sent to {@code tee} (if not null) as it arrives
     * ({@link Outcome#STREAMED}). Concurrent requests wait for the stored copy.
     */
    public Future<Outcome> blob(Route r, Digest digest, Tee tee) {
        cache.pulled(r.cacheRepository(), digest); // in use (HEAD included): not evicted while it is served
        return counted(r, store.blobs().stat(r.cacheRepository(), digest).compose(cached -> cached.isPresent()
                ? Future.succeededFuture(Outcome.FRESH)
                : once(r, "b " + r.cacheRepository() + "@" + digest, () -> fetchBlob(r, digest, tee))));
    }

    private Future<Outcome> fetchBlob(Route r, Digest digest, Tee tee) {
        String path = "/v2/" + r.upstreamRepository() + "/blobs/" + digest;
        return r.client().request(HttpMethod.GET, r.upstreamRepository(), path, List.of()).compose(resp -> {
            int status = resp.statusCode();
            if (status != 200) {
                return UpstreamClient.readBody(resp).transform(x -> status == 404
                        ? Future.succeededFuture(Outcome.NOT_FOUND) : Future.failedFuture(unexpected(r, status, path)));
            }
            return store.uploads().start(r.cacheRepository()).compose(upload -> {
                upload.tryLock();
                String length = resp.getHeader("Content-Length");
                WriteStream<Buffer> side = tee == null ? null
                        : tee.open(length != null && length.matches("[0-9]{1,18}") ? Long.parseLong(length) : -1);
                ReadStream<Buffer> body = resp;
                if (side != null) {
                    TeeReadStream teed = new TeeReadStream(resp, side);
                    tee.onClientGone(teed::dropSide);
                    body = teed;
                }
                Outcome done = side != null ? Outcome.STREAMED : Outcome.FETCHED;
                return store.uploads().append(upload, body)
                        .compose(size -> {
                            stats.fetched(r.upstream().name(), size);
                            return store.uploads().complete(upload, digest, ChangeHook.none());
                        })
                        .compose(blob -> record(r, digest, MirrorCache.Kind.BLOB, blob.size()))
                        .map(done)
                        .recover(e -> store.uploads().cancel(upload).transform(x -> Future.failedFuture(
                                e instanceof UpstreamException ? e : new UpstreamException(r.upstream().name(), 0,
                                        "fetching " + path + " failed: " + e.getMessage(), e))));
            });
        });
    }

    private static UpstreamException unexpected(Route r, int status, String path) {
        return new UpstreamException(r.upstream().name(), status, "answered " + status + " for " + path, null);
    }

    private static Optional<Digest> parseDigest(String text) {
        return text == null || !Digest.isDigest(text.trim()) ? Optional.empty() : Optional.of(Digest.parse(text.trim()));
    }

    /** Counts a request's outcome as a hit or a miss. */
    private Future<Outcome> counted(Route r, Future<Outcome> outcome) {
        return outcome.onSuccess(o -> {
            String name = r.upstream().name();
            switch (o) {
                case FRESH -> stats.hit(name);
                case STALE -> {
                    stats.hit(name);
                    stats.stale(name);
                }
                default -> stats.miss(name);
            }
        });
    }

    /** Accounts for an item fetched into the cache; a failure to do so does not fail the request. */
    private Future<Void> record(Route r, Digest digest, MirrorCache.Kind kind, long size) {
        return cache.cached(r.upstream().name(), r.cacheRepository(), digest, kind, size).recover(e -> {
            LOG.atWarn().setCause(e).addKeyValue("repository", r.cacheRepository().value())
                    .addKeyValue("digest", digest.toString()).log("cannot account for a mirrored item");
            return Future.succeededFuture();
        });
    }

    /** A pull of {@code digest} from {@code repository} (a pull event): cached items note the time. */
    public void pulled(RepositoryName repository, Digest digest) {
        if (isCacheRepository(repository.value())) {
            cache.pulled(repository, digest);
        }
    }

    /** The accounting and eviction of what the mirror fetched. */
    public MirrorCache cache() {
        return cache;
    }

    /** The meters of every upstream. */
    public MirrorStats stats() {
        return stats;
    }

    /** The configured upstreams. */
    public List<UpstreamConfig> upstreams() {
        return upstreams.stream().map(Upstream::config).toList();
    }

    /**
     * One fetch per key at a time; whoever asks meanwhile gets the same outcome. A failure counts
     * once as an upstream error.
     */
    @SuppressWarnings("unchecked")
    private <T> Future<T> once(Route r, String key, Supplier<Future<T>> work) {
        Future<?>[] created = new Future<?>[1];
        Future<?> f = inFlight.computeIfAbsent(key, k -> {
            Future<T> started = work.get().onFailure(e -> stats.error(r.upstream().name()));
            created[0] = started;
            return started;
        });
        if (created[0] != null) {
            f.onComplete(ar -> inFlight.remove(key, f));
        }
        return (Future<T>) f;
    }

    @Override
    public void close() {
        cache.close();
        upstreams.forEach(u -> u.client().close());
    }
}
