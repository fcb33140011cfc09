package dev.berth.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The behaviour every {@link StorageDriver} promises. A driver's test class implements this interface
 * and {@link #newDriver()}; every driver must pass it unchanged. Tests go through
 * {@link ValidatingStorageDriver}, as the server does.
 */
public interface StorageDriverContract {

    /** A new, empty driver. Called once per test; the test closes it. */
    StorageDriver newDriver() throws Exception;

    /** The driver as the server sees it. */
    default StorageDriver driver() throws Exception {
        return new ValidatingStorageDriver(newDriver());
    }

    // ---- putContent / getContent -------------------------------------------------------------

    @Test
    default void putThenGetRoundTrips() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("k", bytes("hello"));
            assertEquals("hello", string(d.getContent("k")));
        }
    }

    @Test
    default void putReplacesEarlierContentEvenWhenShorter() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("k", bytes("a long first value"));
            d.putContent("k", bytes("short"));
            // No tail of the longer value may survive.
            assertEquals("short", string(d.getContent("k")));
            assertEquals(5, d.stat("k").size());
        }
    }

    @Test
    default void putEmptyContentCreatesAnEmptyObject() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("empty", new byte[0]);
            assertEquals(0, d.getContent("empty").length);
            FileInfo info = d.stat("empty");
            assertEquals(0, info.size());
            assertFalse(info.isDirectory());
            assertEquals(List.of("empty"), d.list(""));
        }
    }

    @Test
    default void putLargeContentRoundTrips() throws Exception {
        byte[] content = randomBytes(5 * 1024 * 1024 + 17, 1);
        try (StorageDriver d = driver()) {
            d.putContent("big/blob", content);
            assertArrayEquals(content, d.getContent("big/blob"));
            assertEquals(content.length, d.stat("big/blob").size());
        }
    }

    @Test
    default void putCreatesParentsImplicitly() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("p/q/r/s", bytes("deep"));
            assertTrue(d.stat("p").isDirectory());
            assertTrue(d.stat("p/q/r").isDirectory());
            assertEquals(List.of("p/q/r/s"), d.list("p/q/r"));
            assertEquals("deep", string(d.getContent("p/q/r/s")));
        }
    }

    @Test
    default void storedContentIsACopy() throws Exception {
        try (StorageDriver d = driver()) {
            byte[] content = bytes("original");
            d.putContent("k", content);
            content[0] = 'X';
            d.getContent("k")[1] = 'Y';
            assertEquals("original", string(d.getContent("k")));
        }
    }

    @Test
    default void getContentOfAbsentKeyIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("nothing", () -> d.getContent("nothing"));
            d.putContent("dir/present", bytes("x"));
            assertNotFound("dir/absent", () -> d.getContent("dir/absent"));
            assertNotFound("dir/absent/deeper", () -> d.getContent("dir/absent/deeper"));
        }
    }

    @Test
    default void getContentOfDirectoryIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("dir/sub/x", bytes("x"));
            assertNotFound("dir", () -> d.getContent("dir"));
            assertNotFound("dir/sub", () -> d.getContent("dir/sub"));
        }
    }

    @Test
    default void keysBelowAnObjectAreAbsent() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("obj", bytes("x"));
            // "obj" is an object, so nothing lives at "obj/child": every reading call must say absent.
            assertNotFound("obj/child", () -> d.getContent("obj/child"));
            assertNotFound("obj/child", () -> d.reader("obj/child", 0).close());
            assertNotFound("obj/child", () -> d.stat("obj/child"));
            assertNotFound("obj/child", () -> d.list("obj/child"));
            assertNotFound("obj/child", () -> d.walk("obj/child", e -> WalkAction.CONTINUE));
            assertNotFound("obj/child", () -> d.move("obj/child", "elsewhere"));
            assertNotFound("obj/child", () -> d.delete("obj/child"));
            assertEquals("x", string(d.getContent("obj")));
        }
    }

    @Test
    default void unusualButValidKeysBehaveLikeAnyOther() throws Exception {
        // Every segment here matches the documented key grammar.
        List<String> keys = List.of("-dash", "...", ".hidden", ".tmp-looks-internal", "_under", "dir/.tmp-x");
        try (StorageDriver d = driver()) {
            for (String key : keys) {
                d.putContent(key, bytes(key));
            }
            for (String key : keys) {
                assertEquals(key, string(d.getContent(key)));
            }
            assertEquals(List.of("-dash", "...", ".hidden", ".tmp-looks-internal", "_under", "dir"), d.list(""),
                    "list of root");
            assertEquals(List.of("dir/.tmp-x"), d.list("dir"), "list of dir");
            assertEquals(List.of("-dash=5", "...=3", ".hidden=7", ".tmp-looks-internal=19", "_under=6", "dir/",
                    "dir/.tmp-x=10"), visits(d, ""), "walk of root");
        }
    }

    // ---- reader ------------------------------------------------------------------------------

    @Test
    default void readerStartsAtOffset() throws Exception {
        byte[] content = randomBytes(100, 2);
        try (StorageDriver d = driver()) {
            d.putContent("k", content);
            assertArrayEquals(content, readAll(d.reader("k", 0)));
            assertArrayEquals(Arrays.copyOfRange(content, 40, 100), readAll(d.reader("k", 40)));
            assertArrayEquals(Arrays.copyOfRange(content, 99, 100), readAll(d.reader("k", 99)));
            assertEquals(0, readAll(d.reader("k", 100)).length, "offset at the end");
            assertEquals(0, readAll(d.reader("k", 1000)).length, "offset past the end");
        }
    }

    @Test
    default void readerOfEmptyObjectIsEmpty() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("empty", new byte[0]);
            assertEquals(0, readAll(d.reader("empty", 0)).length);
        }
    }

    @Test
    default void readerOfAbsentKeyIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("absent", () -> d.reader("absent", 0).close());
            d.putContent("dir/x", bytes("x"));
            assertNotFound("dir/absent", () -> d.reader("dir/absent", 0).close());
        }
    }

    @Test
    default void readerRejectsNegativeOffset() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("k", bytes("x"));
            assertThrows(IllegalArgumentException.class, () -> d.reader("k", -1).close());
        }
    }

    // ---- writer ------------------------------------------------------------------------------

    @Test
    default void writerAppendsBuffersAndCommitMakesThemVisible() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("up/k", false)) {
                assertEquals(0, w.size());
                ByteBuffer heap = ByteBuffer.wrap(bytes("hello "));
                w.write(heap);
                assertFalse(heap.hasRemaining(), "write consumes the buffer");
                assertEquals(6, w.size());
                // Only the remaining bytes of a buffer count, not its whole backing array.
                w.write(ByteBuffer.wrap(bytes("xxbigxx"), 2, 3));
                assertEquals(9, w.size());
                ByteBuffer direct = ByteBuffer.allocateDirect(7);
                direct.put(bytes(" direct")).flip();
                w.write(direct);
                w.write(ByteBuffer.wrap(bytes(" read-only")).asReadOnlyBuffer());
                w.write(ByteBuffer.allocate(0));
                assertEquals(26, w.size());
                w.commit();
            }
            assertEquals("hello big direct read-only", string(d.getContent("up/k")));
            assertEquals(26, d.stat("up/k").size());
        }
    }

    @Test
    default void writerCreatesParentsImplicitly() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("w/deep/k", false)) {
                w.write(ByteBuffer.wrap(bytes("x")));
                w.commit();
            }
            assertEquals(List.of("w/deep/k"), d.list("w/deep"));
            assertEquals("x", string(d.getContent("w/deep/k")));
        }
    }

    @Test
    default void writeAfterCommitFails() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("k", false)) {
                w.write(ByteBuffer.wrap(bytes("done")));
                w.commit();
                assertFails(() -> w.write(ByteBuffer.wrap(bytes("more"))));
            }
            assertEquals("done", string(d.getContent("k")));
        }
    }

    @Test
    default void commitTwiceFails() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("k", false)) {
                w.write(ByteBuffer.wrap(bytes("once")));
                w.commit();
                assertFails(w::commit);
            }
            assertEquals("once", string(d.getContent("k")));
        }
    }

    @Test
    default void writeAfterCloseOrCancelFails() throws Exception {
        try (StorageDriver d = driver()) {
            StorageWriter closed = d.writer("a", false);
            closed.close();
            assertFails(() -> closed.write(ByteBuffer.wrap(bytes("x"))));

            StorageWriter cancelled = d.writer("b", false);
            cancelled.cancel();
            assertFails(() -> cancelled.write(ByteBuffer.wrap(bytes("x"))));
            cancelled.close();
        }
    }

    @Test
    default void closeIsIdempotent() throws Exception {
        try (StorageDriver d = driver()) {
            StorageWriter w = d.writer("k", false);
            w.write(ByteBuffer.wrap(bytes("x")));
            w.commit();
            w.close();
            w.close();
            assertEquals("x", string(d.getContent("k")));
        }
    }

    @Test
    default void appendingWriterContinuesAClosedUncommittedWriter() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("up/k", false)) {
                w.write(ByteBuffer.wrap(bytes("abc")));
            }
            try (StorageWriter w = d.writer("up/k", true)) {
                assertEquals(3, w.size(), "size includes the earlier writer's bytes");
                w.write(ByteBuffer.wrap(bytes("de")));
                assertEquals(5, w.size());
            }
            try (StorageWriter w = d.writer("up/k", true)) {
                assertEquals(5, w.size());
                w.write(ByteBuffer.wrap(bytes("f")));
                assertEquals(6, w.size());
                w.commit();
            }
            assertEquals("abcdef", string(d.getContent("up/k")));
        }
    }

    @Test
    default void nonAppendingWriterDiscardsUncommittedContent() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("k", false)) {
                w.write(ByteBuffer.wrap(bytes("old and long")));
            }
            try (StorageWriter w = d.writer("k", false)) {
                assertEquals(0, w.size());
                w.write(ByteBuffer.wrap(bytes("new")));
                w.commit();
            }
            assertEquals("new", string(d.getContent("k")));
        }
    }

    @Test
    default void appendingWriterOnAbsentKeyStartsEmpty() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("fresh", true)) {
                assertEquals(0, w.size());
                w.write(ByteBuffer.wrap(bytes("x")));
                w.commit();
            }
            assertEquals("x", string(d.getContent("fresh")));
        }
    }

    @Test
    default void cancelDiscardsContentAndIsSafeTwice() throws Exception {
        try (StorageDriver d = driver()) {
            StorageWriter w = d.writer("up/k", false);
            w.write(ByteBuffer.wrap(bytes("discard me")));
            w.cancel();
            w.cancel();
            w.close();
            assertNotFound("up/k", () -> d.getContent("up/k"));
            try (StorageWriter again = d.writer("up/k", true)) {
                assertEquals(0, again.size(), "nothing left to continue");
                again.cancel();
            }
        }
    }

    @Test
    default void cancelAfterCloseDiscardsContent() throws Exception {
        try (StorageDriver d = driver()) {
            StorageWriter w = d.writer("up/k", false);
            w.write(ByteBuffer.wrap(bytes("discard me")));
            w.close();
            w.cancel();
            assertNotFound("up/k", () -> d.getContent("up/k"));
            try (StorageWriter again = d.writer("up/k", true)) {
                assertEquals(0, again.size(), "nothing left to continue");
                again.cancel();
            }
        }
    }

    // ---- stat --------------------------------------------------------------------------------

    @Test
    default void statOfObject() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("dir/obj", bytes("12345"));
            FileInfo info = d.stat("dir/obj");
            assertEquals("dir/obj", info.key());
            assertEquals(5, info.size());
            assertFalse(info.isDirectory());
            assertNotNull(info.modTime());
        }
    }

    @Test
    default void statOfImplicitDirectories() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("s/t/u", bytes("12345"));
            for (String dir : List.of("s", "s/t")) {
                FileInfo info = d.stat(dir);
                assertEquals(dir, info.key());
                assertTrue(info.isDirectory(), dir);
                assertEquals(0, info.size(), "directories have size 0");
                assertNotNull(info.modTime());
            }
        }
    }

    @Test
    default void statOfAbsentKeyIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("absent", () -> d.stat("absent"));
            d.putContent("dir/x", bytes("x"));
            assertNotFound("dir/y", () -> d.stat("dir/y"));
            assertNotFound("di", () -> d.stat("di"));
        }
    }

    // ---- list --------------------------------------------------------------------------------

    @Test
    default void listReturnsDirectChildrenAsFullKeysInLexicalOrder() throws Exception {
        try (StorageDriver d = driver()) {
            // Created out of order; '-' sorts before '/', uppercase before lowercase.
            for (String key : List.of("zeta", "alpha/two", "alpha/sub/deep", "alpha-beta", "Beta", "alpha/one",
                    "alpha/sub-x")) {
                d.putContent(key, bytes(key));
            }
            assertEquals(List.of("Beta", "alpha", "alpha-beta", "zeta"), d.list(""));
            assertEquals(List.of("alpha/one", "alpha/sub", "alpha/sub-x", "alpha/two"), d.list("alpha"));
            assertEquals(List.of("alpha/sub/deep"), d.list("alpha/sub"));
        }
    }

    @Test
    default void listOfAbsentDirectoryIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("absent", () -> d.list("absent"));
            d.putContent("dir/obj", bytes("x"));
            assertNotFound("dir/absent", () -> d.list("dir/absent"));
            assertNotFound("dir/obj", () -> d.list("dir/obj"));
        }
    }

    @Test
    default void listOfEmptyRootIsEmpty() throws Exception {
        try (StorageDriver d = driver()) {
            assertEquals(List.of(), d.list(""));
        }
    }

    // ---- move --------------------------------------------------------------------------------

    @Test
    default void moveCreatesDestinationParentsAndRemovesSource() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("src/x", bytes("payload"));
            d.move("src/x", "dst/deep/y");
            assertEquals("payload", string(d.getContent("dst/deep/y")));
            assertNotFound("src/x", () -> d.getContent("src/x"));
            assertEquals(List.of("dst/deep/y"), d.list("dst/deep"));
        }
    }

    @Test
    default void moveReplacesExistingDestination() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("a", bytes("new"));
            d.putContent("b", bytes("old and longer"));
            d.move("a", "b");
            assertEquals("new", string(d.getContent("b")));
            assertNotFound("a", () -> d.getContent("a"));
            assertEquals(List.of("b"), d.list(""));
        }
    }

    @Test
    default void moveOfAbsentSourceIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("dest", bytes("keep"));
            assertNotFound("absent", () -> d.move("absent", "dest"));
            assertEquals("keep", string(d.getContent("dest")));
        }
    }

    // ---- delete ------------------------------------------------------------------------------

    @Test
    default void deleteRemovesAnObject() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("a", bytes("a"));
            d.putContent("ab", bytes("ab"));
            d.delete("a");
            assertNotFound("a", () -> d.getContent("a"));
            assertNotFound("a", () -> d.stat("a"));
            assertEquals("ab", string(d.getContent("ab")));
        }
    }

    @Test
    default void deleteRemovesAWholeTree() throws Exception {
        try (StorageDriver d = driver()) {
            for (String key : List.of("t/a", "t/b/c", "t/b/d/e", "t-sibling", "tx", "u/t")) {
                d.putContent(key, bytes(key));
            }
            d.delete("t");
            for (String key : List.of("t/a", "t/b/c", "t/b/d/e")) {
                assertNotFound(key, () -> d.getContent(key));
            }
            assertNotFound("t", () -> d.stat("t"));
            // Keys that merely share the prefix survive.
            assertEquals("t-sibling", string(d.getContent("t-sibling")));
            assertEquals("tx", string(d.getContent("tx")));
            assertEquals("u/t", string(d.getContent("u/t")));
            assertEquals(List.of("t-sibling", "tx", "u"), d.list(""));
        }
    }

    @Test
    default void deletingADirectoryDiscardsUncommittedWritersBelowIt() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("s/startedat", bytes("now"));
            try (StorageWriter w = d.writer("s/data", false)) {
                w.write(ByteBuffer.wrap(bytes("unfinished")));
            }
            try (StorageWriter w = d.writer("s-sibling/data", false)) {
                w.write(ByteBuffer.wrap(bytes("kept")));
            }
            d.delete("s");
            try (StorageWriter w = d.writer("s/data", true)) {
                assertEquals(0, w.size(), "a continuation after the delete starts empty");
                w.cancel();
            }
            try (StorageWriter w = d.writer("s-sibling/data", true)) {
                assertEquals(4, w.size(), "a writer beside the deleted directory is untouched");
                w.commit();
            }
            assertEquals("kept", string(d.getContent("s-sibling/data")));
        }
    }

    @Test
    default void deleteOfAbsentKeyIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("absent", () -> d.delete("absent"));
            d.putContent("dir/x", bytes("x"));
            assertNotFound("dir/y", () -> d.delete("dir/y"));
            assertEquals("x", string(d.getContent("dir/x")));
        }
    }

    @Test
    default void deleteOfOnlyObjectInDirectory() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("dir/only", bytes("x"));
            d.delete("dir/only");
            assertNotFound("dir/only", () -> d.getContent("dir/only"));
            assertNotFound("dir/only", () -> d.stat("dir/only"));
            // Whether "dir" lingers as an empty directory is up to the driver; no object may remain.
            assertEquals(List.of(), objects(d));
        }
    }

    // ---- walk --------------------------------------------------------------------------------

    @Test
    default void walkIsDepthFirstLexicalWithDirectoriesBeforeTheirContent() throws Exception {
        try (StorageDriver d = driver()) {
            putWalkTree(d);
            // A plain sort of full keys would put "a-b" before "a/x": the walk goes segment by segment.
            assertEquals(List.of("a/", "a/x=3", "a/y/", "a/y/1=5", "a/y/2=5", "a-b=3", "b/", "b/z=3", "c=1"),
                    visits(d, ""));
        }
    }

    @Test
    default void walkBelowAKeyVisitsOnlyItsEntries() throws Exception {
        try (StorageDriver d = driver()) {
            putWalkTree(d);
            assertEquals(List.of("a/x=3", "a/y/", "a/y/1=5", "a/y/2=5"), visits(d, "a"));
            assertEquals(List.of("a/y/1=5", "a/y/2=5"), visits(d, "a/y"));
        }
    }

    @Test
    default void walkSkipDirectoryPrunesIt() throws Exception {
        try (StorageDriver d = driver()) {
            putWalkTree(d);
            List<String> seen = new ArrayList<>();
            d.walk("", e -> {
                seen.add(describe(e));
                // SKIP_DIRECTORY on the file "a/x" must act like CONTINUE.
                return e.key().equals("a/y") || e.key().equals("a/x") || e.key().equals("b")
                        ? WalkAction.SKIP_DIRECTORY : WalkAction.CONTINUE;
            });
            assertEquals(List.of("a/", "a/x=3", "a/y/", "a-b=3", "b/", "c=1"), seen);
        }
    }

    @Test
    default void walkStopEndsTheWalk() throws Exception {
        try (StorageDriver d = driver()) {
            putWalkTree(d);
            assertEquals(List.of("a/", "a/x=3", "a/y/", "a/y/1=5"), visitsUntil(d, "a/y/1"));
            assertEquals(List.of("a/", "a/x=3", "a/y/", "a/y/1=5", "a/y/2=5", "a-b=3", "b/"), visitsUntil(d, "b"));
        }
    }

    @Test
    default void walkOfAbsentKeyIsNotFound() throws Exception {
        try (StorageDriver d = driver()) {
            assertNotFound("absent", () -> d.walk("absent", e -> WalkAction.CONTINUE));
            d.putContent("dir/x", bytes("x"));
            assertNotFound("dir/absent", () -> d.walk("dir/absent", e -> WalkAction.CONTINUE));
        }
    }

    @Test
    default void walkOfEmptyRootVisitsNothing() throws Exception {
        try (StorageDriver d = driver()) {
            assertEquals(List.of(), visits(d, ""));
        }
    }

    // ---- redirectUrl -------------------------------------------------------------------------

    @Test
    default void redirectUrlAnswersForAnExistingKey() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("k", bytes("x"));
            assertNotNull(d.redirectUrl("k", "GET"));
            assertNotNull(d.redirectUrl("k", "HEAD"));
        }
    }

    // ---- key validation (ValidatingStorageDriver) --------------------------------------------

    @Test
    default void invalidKeysAreRejectedBeforeReachingTheDriver() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("src", bytes("source"));
            List<String> keys = new ArrayList<>(invalidKeys());
            keys.add("");
            keys.add(null);
            for (String key : keys) {
                assertInvalid(key, () -> d.getContent(key));
                assertInvalid(key, () -> d.putContent(key, bytes("x")));
                assertInvalid(key, () -> d.reader(key, 0).close());
                assertInvalid(key, () -> d.writer(key, false).close());
                assertInvalid(key, () -> d.writer(key, true).close());
                assertInvalid(key, () -> d.stat(key));
                assertInvalid(key, () -> d.delete(key));
                assertInvalid(key, () -> d.move("src", key));
                assertInvalid(key, () -> d.move(key, "dest"));
                assertInvalid(key, () -> d.redirectUrl(key, "GET"));
                assertInvalid(key, () -> d.localFile(key));
            }
            // A rejected move leaves its source alone, and nothing else got written.
            assertEquals("source", string(d.getContent("src")));
            assertEquals(List.of("src=6"), visits(d, ""));
        }
    }

    @Test
    default void invalidKeysAreRejectedByListAndWalk() throws Exception {
        try (StorageDriver d = driver()) {
            for (String key : invalidKeys()) {
                assertInvalid(key, () -> d.list(key));
                assertInvalid(key, () -> d.walk(key, e -> WalkAction.CONTINUE));
            }
            assertInvalid(null, () -> d.list(null));
        }
    }

    @Test
    default void rootIsAcceptedByListAndWalk() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("top", bytes("x"));
            assertEquals(List.of("top"), d.list(""));
            assertEquals(List.of("top=1"), visits(d, ""));
        }
    }

    @Test
    default void notFoundErrorsNameTheDriver() throws Exception {
        try (StorageDriver d = driver()) {
            assertFalse(d.name().isBlank());
            PathNotFoundException e = assertThrows(PathNotFoundException.class, () -> d.getContent("absent"));
            assertTrue(e.getMessage().startsWith(d.name() + ": "), e.getMessage());
        }
    }

    // ---- concurrency -------------------------------------------------------------------------

    @Test
    default void concurrentWritesAndReadsNeverSeeTornContent() throws Exception {
        int writers = 8;
        int perWriter = 50;
        try (StorageDriver d = driver()) {
            d.putContent("hot", hotValue(0));
            ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
            Queue<String> problems = new ConcurrentLinkedQueue<>();
            AtomicInteger reads = new AtomicInteger();
            try {
                CountDownLatch start = new CountDownLatch(1);
                AtomicBoolean writing = new AtomicBoolean(true);
                List<Future<?>> writes = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int id = w;
                    writes.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < perWriter; i++) {
                            d.putContent("w" + id + "/k" + i, bytes(id + ":" + i));
                            d.putContent("hot", hotValue(1 + id * perWriter + i));
                        }
                        return null;
                    }));
                }
                List<Future<?>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    readers.add(pool.submit(() -> {
                        start.await();
                        do {
                            String problem = checkHotValue(d.getContent("hot"));
                            if (problem != null) {
                                problems.add(problem);
                            }
                            reads.incrementAndGet();
                        } while (writing.get());
                        return null;
                    }));
                }
                start.countDown();
                try {
                    for (Future<?> f : writes) {
                        f.get(120, TimeUnit.SECONDS);
                    }
                } finally {
                    writing.set(false);
                }
                for (Future<?> f : readers) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(problems.isEmpty(), () -> problems.size() + " torn reads of " + reads + ", first: "
                    + problems.peek());
            for (int w = 0; w < writers; w++) {
                for (int i = 0; i < perWriter; i++) {
                    assertEquals(w + ":" + i, string(d.getContent("w" + w + "/k" + i)));
                }
                assertEquals(perWriter, d.list("w" + w).size());
            }
            assertEquals(writers + 1, d.list("").size());
            assertNull(checkHotValue(d.getContent("hot")));
        }
    }

    // ---- leaves nothing behind ---------------------------------------------------------------

    @Test
    default void deletingEverythingLeavesNoObjects() throws Exception {
        try (StorageDriver d = driver()) {
            putAll(d, List.of("a", "b/c", "b/d/e", "f/g"));
            try (StorageWriter w = d.writer("up/committed", false)) {
                w.write(ByteBuffer.wrap(bytes("x")));
                w.commit();
            }
            try (StorageWriter w = d.writer("up/cancelled", false)) {
                w.write(ByteBuffer.wrap(bytes("x")));
                w.cancel();
            }
            d.move("f/g", "moved/g");
            for (String key : d.list("")) {
                d.delete(key);
            }
            assertEquals(List.of(), objects(d));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private static void putAll(StorageDriver d, List<String> keys) throws IOException {
        for (String key : keys) {
            d.putContent(key, bytes(key));
        }
    }

    /** Created out of lexical order; each object's content is its key, so its size is the key length. */
    private static void putWalkTree(StorageDriver d) throws IOException {
        putAll(d, List.of("c", "b/z", "a-b", "a/y/2", "a/x", "a/y/1"));
    }

    /** Keys outside the grammar, other than the root "" (which list and walk accept). */
    private static List<String> invalidKeys() {
        return List.of("../x", "a/../b", "..", ".", "/abs", "a//b", "a/./b", "a/", "a b", "a\\b", "a:b",
                "caf\u00e9", "x".repeat(4097));
    }

    /** "dir/" for a directory, "key=size" for an object. */
    private static String describe(FileInfo e) {
        return e.isDirectory() ? e.key() + "/" : e.key() + "=" + e.size();
    }

    private static List<String> visits(StorageDriver d, String key) throws IOException {
        List<String> seen = new ArrayList<>();
        d.walk(key, e -> {
            seen.add(describe(e));
            return WalkAction.CONTINUE;
        });
        return seen;
    }

    private static List<String> visitsUntil(StorageDriver d, String stopAt) throws IOException {
        List<String> seen = new ArrayList<>();
        d.walk("", e -> {
            seen.add(describe(e));
            return e.key().equals(stopAt) ? WalkAction.STOP : WalkAction.CONTINUE;
        });
        return seen;
    }

    /** The objects (not directories) anywhere in the store. */
    private static List<String> objects(StorageDriver d) throws IOException {
        List<String> found = new ArrayList<>();
        d.walk("", e -> {
            if (!e.isDirectory()) {
                found.add(e.key());
            }
            return WalkAction.CONTINUE;
        });
        return found;
    }

    /** A value made of one int repeated, with a length derived from that int, so any mix is detectable. */
    private static byte[] hotValue(int tag) {
        ByteBuffer b = ByteBuffer.allocate(hotLength(tag));
        while (b.hasRemaining()) {
            b.putInt(tag);
        }
        return b.array();
    }

    private static int hotLength(int tag) {
        return 4 * (16 * 1024 + tag % 101 * 97);
    }

    /** Null when {@code v} is exactly one of the values {@link #hotValue} makes, else what is wrong. */
    private static String checkHotValue(byte[] v) {
        if (v.length < 4 || v.length % 4 != 0) {
            return "length " + v.length;
        }
        ByteBuffer b = ByteBuffer.wrap(v);
        int tag = b.getInt(0);
        if (v.length != hotLength(tag)) {
            return "length " + v.length + " for tag " + tag;
        }
        while (b.hasRemaining()) {
            int got = b.getInt();
            if (got != tag) {
                return "tag " + got + " at byte " + (b.position() - 4) + " in value tagged " + tag;
            }
        }
        return null;
    }

    private static void assertNotFound(String key, Executable call) {
        PathNotFoundException e = assertThrows(PathNotFoundException.class, call, key);
        assertEquals(key, e.key());
    }

    private static void assertInvalid(String key, Executable call) {
        assertThrows(InvalidKeyException.class, call, () -> "key " + (key == null ? null : '"' + key + '"'));
    }

    /** The contract says these calls fail without naming an exception type. */
    private static void assertFails(Executable call) {
        Throwable t = assertThrows(Exception.class, call);
        assertTrue(t instanceof IOException || t instanceof IllegalStateException, () -> "failed with " + t);
    }
}
