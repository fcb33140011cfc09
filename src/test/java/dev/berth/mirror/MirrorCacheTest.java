package dev.berth.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.config.BerthConfig.MirrorCacheConfig;
import dev.berth.config.DataSize;
import dev.berth.db.Database;
import dev.berth.digest.Digest;
import dev.berth.digest.DigestAlgorithm;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.BlobReader;
import dev.berth.registry.store.BlobUpload;
import dev.berth.registry.store.ChangeHook;
import dev.berth.registry.store.RegistryCaches;
import dev.berth.registry.store.RegistryStore;
import dev.berth.registry.store.StorageLayout;
import dev.berth.registry.store.WorkerPool;
import dev.berth.storage.filesystem.FilesystemDriver;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.ValidatingStorageDriver;
import dev.berth.testing.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mirror's accounting and eviction over a real store and database, with a clock the test moves:
 * least recently pulled first, the TTL, bytes another repository links, manifests with their tags,
 * and the accounting across a restart.
 */
class MirrorCacheTest {
    private static final RepositoryName ALPINE = RepositoryName.of("hub.mirror/library/alpine");
    private static final RepositoryName BUSYBOX = RepositoryName.of("hub.mirror/library/busybox");
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

    @TempDir
    Path tmp;
    private Vertx vertx;
    private WorkerPool pool;
    private StorageDriver driver;
    private RegistryStore store;
    private Database db;
    private final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final Random random = new Random(5);
    private MirrorCache cache;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx();
        pool = new WorkerPool(vertx, "test-storage", 4);
        driver = new ValidatingStorageDriver(new FilesystemDriver(tmp.resolve("storage"), false));
        store = RegistryStore.create(driver, pool, new RegistryCaches(1000, 1 << 20));
        db = Database.open(vertx, tmp.resolve("state.db").toString(), false, MirrorSchema.MIGRATIONS);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (cache != null) {
            cache.close();
        }
        db.close();
        driver.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private MirrorCache open(long maxSize, Duration ttl) throws Exception {
        cache = new MirrorCache(vertx, db, store, new MirrorCacheConfig(DataSize.ofBytes(maxSize), ttl, Duration.ofHours(1)),
                clock, List.of("hub"), new MirrorStats(new SimpleMeterRegistry(), List.of("hub")));
        return cache;
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** Stores {@code size} random bytes as a blob of {@code repo}, as the mirror does, and accounts for it. */
    private Digest cacheBlob(RepositoryName repo, int size) throws Exception {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return cacheBlob(repo, bytes);
    }

    private Digest cacheBlob(RepositoryName repo, byte[] bytes) throws Exception {
        Digest digest = Digest.of(DigestAlgorithm.SHA256, bytes);
        Path file = Files.write(tmp.resolve("blob-" + digest.hex()), bytes);
        BlobUpload upload = await(store.uploads().start(repo));
        upload.tryLock();
        AsyncFile in = await(vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true)));
        await(store.uploads().append(upload, in));
        await(store.uploads().complete(upload, digest, ChangeHook.none()));
        await(cache.cached("hub", repo, digest, MirrorCache.Kind.BLOB, bytes.length));
        return digest;
    }

    private boolean hasData(Digest digest) {
        return Files.exists(tmp.resolve("storage").resolve(StorageLayout.blobData(digest)));
    }

    private boolean linked(RepositoryName repo, Digest digest) throws Exception {
        return await(store.blobs().stat(repo, digest)).isPresent();
    }

    @Test
    void theLeastRecentlyPulledGoFirstUntilTheCacheFitsItsCap() throws Exception {
        open(250, Duration.ZERO);
        Digest a = cacheBlob(ALPINE, 100);
        clock.advance(Duration.ofSeconds(1));
        Digest b = cacheBlob(ALPINE, 100);
        clock.advance(Duration.ofSeconds(1));
        Digest c = cacheBlob(BUSYBOX, 100);
        clock.advance(Duration.ofSeconds(1));
        cache.pulled(ALPINE, a); // a is now the most recently pulled; b the least
        assertEquals(300, cache.size("hub"));
        assertEquals(3, cache.items("hub"));

        MirrorCache.Eviction e = await(cache.evict());
        assertEquals(new MirrorCache.Eviction(1, 100, 1), e);
        assertFalse(linked(ALPINE, b));
        assertFalse(hasData(b));
        assertTrue(linked(ALPINE, a) && hasData(a));
        assertTrue(linked(BUSYBOX, c) && hasData(c));
        assertEquals(200, cache.size("hub"));
        assertEquals(2, cache.items("hub"));
        // Under the cap now: another pass takes nothing.
        assertEquals(MirrorCache.Eviction.NONE, await(cache.evict()));
    }

    @Test
    void contentNotPulledWithinTheTtlGoesWhateverTheSize() throws Exception {
        open(0, Duration.ofHours(1));
        Digest old = cacheBlob(ALPINE, 10);
        Digest used = cacheBlob(ALPINE, 10);
        clock.advance(Duration.ofMinutes(30));
        cache.pulled(ALPINE, used);
        clock.advance(Duration.ofMinutes(31));
        assertEquals(new MirrorCache.Eviction(1, 10, 1), await(cache.evict()));
        assertFalse(linked(ALPINE, old));
        assertTrue(linked(ALPINE, used));
        clock.advance(Duration.ofMinutes(30));
        assertEquals(1, await(cache.evict()).items());
        assertFalse(linked(ALPINE, used));
        assertEquals(0, cache.size("hub"));
    }

    @Test
    void bytesThatAnotherRepositoryLinksStayWhenTheCacheLetsGoOfThem() throws Exception {
        open(1, Duration.ZERO);
        byte[] shared = new byte[64];
        random.nextBytes(shared);
        Digest layer = cacheBlob(ALPINE, shared);
        cacheBlob(BUSYBOX, shared); // the same layer in a second cached image
        RepositoryName local = RepositoryName.of("team/app");
        assertTrue(await(store.blobs().mount(local, layer, Optional.of(ALPINE), ChangeHook.none())).isPresent());

        MirrorCache.Eviction e = await(cache.evict());
        assertEquals(2, e.items());
        assertEquals(0, e.blobsDeleted());
        assertFalse(linked(ALPINE, layer));
        assertFalse(linked(BUSYBOX, layer));
        // The local repository that mounted it still serves it.
        assertTrue(linked(local, layer));
        assertTrue(hasData(layer));
        BlobReader r = await(store.blobs().open(layer, 0, shared.length));
        try {
            assertEquals(layer, Digest.of(DigestAlgorithm.SHA256, await(r.next()).getBytes()));
        } finally {
            await(r.close());
        }
    }

    @Test
    void onSharedStorageEvictionUnlinksButNeverDeletesBytes() throws Exception {
        // Other replicas may link the same bytes meanwhile: only the links go.
        store = RegistryStore.create(driver, pool, new RegistryCaches(1000, 1 << 20), true);
        open(1, Duration.ZERO);
        Digest layer = cacheBlob(ALPINE, 64);
        MirrorCache.Eviction e = await(cache.evict());
        assertEquals(1, e.items());
        assertEquals(0, e.blobsDeleted());
        assertFalse(linked(ALPINE, layer));
        assertTrue(hasData(layer));
    }

    @Test
    void aMountRacingTheDeleteOfTheSameBytesNeverLeavesALinkToNothing() throws Exception {
        open(1, Duration.ZERO);
        for (int i = 0; i < 100; i++) {
            Digest layer = cacheBlob(ALPINE, 32);
            RepositoryName local = RepositoryName.of("team/app" + i);
            // The eviction pass (unlink, then delete when nothing links the bytes) and a push that
            // mounts the same bytes into a local repository, at the same time.
            Future<MirrorCache.Eviction> pass = cache.evict();
            Future<Optional<dev.berth.registry.store.BlobInfo>> mount =
                    store.blobs().mount(local, layer, Optional.empty(), ChangeHook.none());
            await(pass);
            boolean mounted = await(mount).isPresent();
            // Either the mount came first (the bytes stay, linked locally) or the delete did (nothing
            // to mount): never a local link whose bytes are gone.
            assertEquals(mounted, linked(local, layer), "round " + i);
            assertEquals(mounted, hasData(layer), "round " + i);
        }
    }

    @Test
    void aManifestGoesWithItsTags() throws Exception {
        open(1, Duration.ZERO);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + "a".repeat(64)
                + "\",\"size\":2},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);
        Digest digest = await(store.manifests().cacheUpstream(ALPINE, manifest, OCI_MANIFEST, Optional.of(Tag.of("3.20")),
                Optional.empty()));
        await(cache.cached("hub", ALPINE, digest, MirrorCache.Kind.MANIFEST, manifest.length));
        assertTrue(await(store.tags().resolve(ALPINE, Tag.of("3.20"))).isPresent());

        assertEquals(new MirrorCache.Eviction(1, manifest.length, 1), await(cache.evict()));
        assertTrue(await(store.tags().resolve(ALPINE, Tag.of("3.20"))).isEmpty());
        assertTrue(await(store.manifests().get(ALPINE, new Reference.ByDigest(digest))).isEmpty());
        assertFalse(hasData(digest));
    }

    @Test
    void theAccountingAndThePullTimesSurviveARestart() throws Exception {
        open(150, Duration.ZERO);
        Digest first = cacheBlob(ALPINE, 100);
        clock.advance(Duration.ofSeconds(1));
        Digest second = cacheBlob(ALPINE, 100);
        clock.advance(Duration.ofSeconds(1));
        cache.pulled(ALPINE, first); // only in memory until written; closing writes it
        cache.close();
        cache = null;

        open(150, Duration.ZERO);
        assertEquals(200, cache.size("hub"));
        assertEquals(2, cache.items("hub"));
        // The pull before the restart counts: the second blob is now the least recently pulled.
        assertEquals(1, await(cache.evict()).items());
        assertTrue(linked(ALPINE, first));
        assertFalse(linked(ALPINE, second));
        assertEquals(Map.of("hub", 100L), Map.of("hub", cache.size("hub")));
    }
}
