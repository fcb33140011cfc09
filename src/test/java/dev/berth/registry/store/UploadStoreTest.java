package dev.berth.registry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.registry.RepositoryName;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.ValidatingStorageDriver;
import dev.berth.storage.filesystem.FilesystemDriver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session lifecycle rules of the upload store that HTTP timing cannot pin down reliably. */
class UploadStoreTest {
    private static final RepositoryName REPO = RepositoryName.of("store/test");

    @TempDir
    Path root;
    private Vertx vertx;
    private WorkerPool pool;
    private StorageDriver driver;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx();
        pool = new WorkerPool(vertx, "test-storage", 4);
        driver = new ValidatingStorageDriver(new FilesystemDriver(root, false));
    }

    @AfterEach
    void tearDown() throws Exception {
        driver.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private UploadStore newStore() {
        RepositoryLocks locks = new RepositoryLocks();
        return new UploadStore(driver, pool, new BlobStore(driver, pool, new RegistryCaches(1000, 1 << 20), locks, new RepositoryLocks()));
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aCancelledSessionIsMarkedRemovedAndCannotBeOpenedAgain() throws Exception {
        UploadStore store = newStore();
        BlobUpload upload = await(store.start(REPO));
        // Another request obtained the object before the cancel.
        BlobUpload held = await(store.open(REPO, upload.id()));
        await(store.cancel(upload));
        assertTrue(held.isRemoved(), "a request holding the session must see that it ended");
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(store.open(REPO, upload.id())));
        assertInstanceOf(UploadUnknownException.class, e.getCause());
    }

    @Test
    void thePurgeSkipsASessionARequestIsWritingTo() throws Exception {
        UploadStore store = newStore();
        BlobUpload busy = await(store.start(REPO));
        BlobUpload idle = await(store.start(REPO));
        assertTrue(busy.tryLock());
        assertEquals(1, await(store.purge(Instant.now().plusSeconds(60))));
        assertFalse(busy.isRemoved());
        assertTrue(idle.isRemoved());
        busy.unlock();
        assertEquals(busy, await(store.open(REPO, busy.id())));
    }

    @Test
    void thePurgeRemovesSessionsNotLoadedSinceARestart() throws Exception {
        BlobUpload before = await(newStore().start(REPO));
        UploadStore restarted = newStore();
        assertEquals(1, await(restarted.purge(Instant.now().plusSeconds(60))));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> await(restarted.open(REPO, before.id())));
        assertInstanceOf(UploadUnknownException.class, e.getCause());
    }

    @Test
    void concurrentFirstOpensAfterARestartShareOneLoad() throws Exception {
        BlobUpload before = await(newStore().start(REPO));
        UploadStore restarted = newStore();
        Future<BlobUpload> a = restarted.open(REPO, before.id());
        Future<BlobUpload> b = restarted.open(REPO, before.id());
        assertTrue(await(a) == await(b), "one session object for one upload");
    }
}
