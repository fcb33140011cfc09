package dev.berth.mirror;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What the mirror did, per upstream, as Micrometer meters (exported on {@code /metrics}) that
 * {@code GET /api/mirror} reads back. A hit is a request answered from the cache (fresh, revalidated,
 * or stale); a miss one that had to wait for the upstream (whether or not its fetch was shared).
 */
public final class MirrorStats {
    /** The meters of one upstream. */
    public static final class Upstream {
        final Counter hits;
        final Counter misses;
        final Counter bytesFromCache;
        final Counter bytesFetched;
        final Counter errors;
        final Counter stale;
        final Counter evictions;
        final Counter bytesEvicted;

        private Upstream(MeterRegistry registry, String name) {
            hits = counter(registry, "berth.mirror.requests", name, "result", "hit", "requests answered from the cache");
            misses = counter(registry, "berth.mirror.requests", name, "result", "miss", "requests that waited for the upstream");
            bytesFromCache = counter(registry, "berth.mirror.served.bytes", name, null, null,
                    "bytes of cached content sent to clients");
            bytesFetched = counter(registry, "berth.mirror.fetched.bytes", name, null, null, "bytes read from the upstream");
            errors = counter(registry, "berth.mirror.upstream.errors", name, null, null,
                    "upstream requests that failed (down, timeout, 5xx, 429, unexpected answers)");
            stale = counter(registry, "berth.mirror.stale", name, null, null,
                    "tags served stale because the upstream could not confirm them");
            evictions = counter(registry, "berth.mirror.evictions", name, null, null, "cached items evicted");
            bytesEvicted = counter(registry, "berth.mirror.evicted.bytes", name, null, null, "bytes of cached items evicted");
        }

        private static Counter counter(MeterRegistry registry, String meter, String upstream, String tag, String value,
                                       String description) {
            Counter.Builder b = Counter.builder(meter).description(description).tag("upstream", upstream);
            if (tag != null) {
                b.tag(tag, value);
            }
            return b.register(registry);
        }
    }

    private final Map<String, Upstream> upstreams = new LinkedHashMap<>();

    public MirrorStats(MeterRegistry registry, List<String> names) {
        for (String name : names) {
            upstreams.put(name, new Upstream(registry, name));
        }
    }

    /** Exports what the cache holds per upstream: {@code size} and {@code items} are read when scraped. */
    public static void gauges(MeterRegistry registry, List<String> names, ToDoubleFunction<String> size,
                              ToDoubleFunction<String> items) {
        for (String name : names) {
            Gauge.builder("berth.mirror.cache.bytes", name, size).description("bytes the cache holds")
                    .tag("upstream", name).baseUnit("bytes").register(registry);
            Gauge.builder("berth.mirror.cache.items", name, items).description("manifests and blobs the cache holds")
                    .tag("upstream", name).register(registry);
        }
    }

    /** The meters of upstream {@code name}. */
    public Upstream of(String name) {
        Upstream u = upstreams.get(name);
        if (u == null) {
            throw new IllegalArgumentException("no upstream " + name);
        }
        return u;
    }

    public void hit(String upstream) {
        of(upstream).hits.increment();
    }

    public void miss(String upstream) {
        of(upstream).misses.increment();
    }

    public void servedFromCache(String upstream, long bytes) {
        of(upstream).bytesFromCache.increment(bytes);
    }

    public void fetched(String upstream, long bytes) {
        of(upstream).bytesFetched.increment(bytes);
    }

    public void error(String upstream) {
        of(upstream).errors.increment();
    }

    public void stale(String upstream) {
        of(upstream).stale.increment();
    }

    public void evicted(String upstream, long bytes) {
        Upstream u = of(upstream);
        u.evictions.increment();
        u.bytesEvicted.increment(bytes);
    }

    /** The counters of every upstream, by name, for {@code GET /api/mirror}. */
    public Map<String, Map<String, Long>> counters() {
        Map<String, Map<String, Long>> all = new LinkedHashMap<>();
        upstreams.forEach((name, u) -> {
            Map<String, Long> c = new LinkedHashMap<>();
            c.put("hits", (long) u.hits.count());
            c.put("misses", (long) u.misses.count());
            c.put("bytesServedFromCache", (long) u.bytesFromCache.count());
            c.put("bytesFetched", (long) u.bytesFetched.count());
            c.put("errors", (long) u.errors.count());
            c.put("staleServed", (long) u.stale.count());
            c.put("evictions", (long) u.evictions.count());
            c.put("bytesEvicted", (long) u.bytesEvicted.count());
            all.put(name, c);
        });
        return all;
    }
}
