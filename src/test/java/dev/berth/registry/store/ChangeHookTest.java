package dev.berth.registry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.digest.Digest;
import dev.berth.registry.Reference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.ValidatingStorageDriver;
import dev.berth.storage.filesystem.FilesystemDriver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store runs change hooks inside the repository lock: after a push is written, before a delete
 * removes anything. That is what keeps recorded events in the order of the changes; HTTP timing
 * cannot pin it down, so it is checked here directly.
 */
class ChangeHookTest {
    private static final RepositoryName REPO = RepositoryName.of("hooks/test");
    private static final String INDEX = "application/vnd.oci.image.index.v1+json";
    private static final Tag T = Tag.of("t");

    @TempDir
    Path root;
    private Vertx vertx;
    private StorageDriver driver;
    private RegistryStore store;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx();
        driver = new ValidatingStorageDriver(new FilesystemDriver(root, false));
        store = RegistryStore.create(driver, new WorkerPool(vertx, "test-storage", 4), new RegistryCaches(1000, 1 << 20));
    }

    @AfterEach
    void tearDown() throws Exception {
        driver.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** A distinct, valid, empty image index (an index needs no blobs to be stored). */
    private static byte[] index(String note) {
        return ("{\"schemaVersion\":2,\"mediaType\":\"" + INDEX + "\",\"manifests\":[],"
                + "\"annotations\":{\"note\":\"" + note + "\"}}").getBytes(StandardCharsets.UTF_8);
    }

    private Future<PutManifestResult> push(byte[] manifest, ChangeHook<PutManifestResult> hook) {
        return store.manifests().put(REPO, Reference.parse("t"), List.of(), manifest, INDEX, hook);
    }

    @Test
    void aPushHookSeesThePushDoneAndHoldsOffAConcurrentDeleteOfTheTag() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch inHook = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        byte[] m = index("one");
        Future<PutManifestResult> pushed = push(m, result -> {
            // Written before the hook runs: the tag already points at the new manifest.
            assertEquals(Optional.of(result.digest()), store.tags().resolveBlocking(REPO, T));
            order.add("push " + result.digest());
            inHook.countDown();
            assertTrue(release.await(10, TimeUnit.SECONDS));
        });
        assertTrue(inHook.await(10, TimeUnit.SECONDS));
        Future<Boolean> untagged = store.tags().untag(REPO, T, tag -> order.add("delete " + tag.value()));
        // The untag waits for the lock the push still holds (it could only finish now if it did not).
        Thread.sleep(300);
        assertFalse(untagged.isComplete(), "a delete of the tag finished while the push's hook was still running");
        release.countDown();
        Digest digest = await(pushed).digest();
        assertTrue(await(untagged));
        assertEquals(List.of("push " + digest, "delete t"), order);
        assertEquals(Optional.empty(), await(store.tags().resolve(REPO, T)));
    }

    @Test
    void aDeleteHookRunsBeforeAnythingIsRemovedAndNamesTheTagsThatGo() throws Exception {
        byte[] m = index("two");
        Digest digest = await(store.manifests().put(REPO, Reference.parse("t"), List.of(Tag.of("u")), m, INDEX,
                ChangeHook.none())).digest();
        List<DeletedManifest> seen = new ArrayList<>();
        assertTrue(await(store.manifests().delete(REPO, digest, deleted -> {
            assertEquals(Optional.of(digest), store.tags().resolveBlocking(REPO, T), "tag still there in the hook");
            driver.stat(StorageLayout.revisionLink(REPO, digest)); // throws if the manifest were gone already
            seen.add(deleted);
        })));
        assertEquals(1, seen.size());
        assertEquals(digest, seen.get(0).digest());
        assertEquals(List.of(T, Tag.of("u")), seen.get(0).tags().stream().sorted((a, b) -> a.value().compareTo(b.value()))
                .toList());
        assertEquals(Optional.empty(), await(store.tags().resolve(REPO, T)));
        assertEquals(Optional.empty(), await(store.manifests().get(REPO, Reference.parse(digest.toString()))));
        // Nothing to delete: no hook.
        assertFalse(await(store.manifests().delete(REPO, digest, deleted -> seen.add(deleted))));
        assertEquals(1, seen.size());
    }

    @Test
    void aDeleteWhoseHookFailsRemovesNothing() throws Exception {
        byte[] m = index("three");
        Digest digest = await(push(m, ChangeHook.none())).digest();
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(store.manifests().delete(REPO, digest,
                deleted -> {
                    throw new IllegalStateException("outbox unavailable");
                })));
        assertEquals("outbox unavailable", e.getCause().getMessage());
        assertEquals(Optional.of(digest), await(store.tags().resolve(REPO, T)));
        assertTrue(await(store.manifests().get(REPO, Reference.parse(digest.toString()))).isPresent());

        assertThrows(ExecutionException.class, () -> await(store.tags().untag(REPO, T, tag -> {
            throw new IllegalStateException("outbox unavailable");
        })));
        assertEquals(Optional.of(digest), await(store.tags().resolve(REPO, T)));
        // An untag of a tag that does not exist runs no hook.
        List<Tag> hooked = new ArrayList<>();
        assertFalse(await(store.tags().untag(REPO, Tag.of("absent"), hooked::add)));
        assertTrue(hooked.isEmpty());
    }
}
