package dev.berth.storage.filesystem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageDriverContract;
import dev.berth.storage.StorageWriter;
import dev.berth.storage.ValidatingStorageDriver;
import dev.berth.storage.WalkAction;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemDriverTest implements StorageDriverContract {
    @TempDir
    Path root;

    @Override
    public StorageDriver newDriver() throws IOException {
        return new FilesystemDriver(root, true);
    }

    @Test
    void localFileHoldsCommittedContent() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("blobs/put", bytes("via putContent"));
            try (StorageWriter w = d.writer("blobs/written", false)) {
                w.write(ByteBuffer.wrap(bytes("via writer")));
                w.commit();
            }
            for (String key : List.of("blobs/put", "blobs/written")) {
                Path file = d.localFile(key).orElseThrow();
                assertTrue(file.startsWith(root), file + " is under the root");
                assertTrue(Files.isRegularFile(file) && Files.isReadable(file), file + " is a readable file");
                assertArrayEquals(d.getContent(key), Files.readAllBytes(file));
            }
        }
    }

    @Test
    void tempFilesAreNeverListedOrWalked() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("dir/real", bytes("x"));
            // What a crash in the middle of putContent would leave behind.
            Files.write(root.resolve(FilesystemDriver.TEMP_PREFIX + "orphan"), bytes("partial"));
            Files.write(root.resolve("dir/" + FilesystemDriver.TEMP_PREFIX + "orphan"), bytes("partial"));
            assertEquals(List.of("dir"), d.list(""));
            assertEquals(List.of("dir/real"), d.list("dir"));
            List<String> walked = new ArrayList<>();
            d.walk("", e -> {
                walked.add(e.key());
                return WalkAction.CONTINUE;
            });
            assertEquals(List.of("dir", "dir/real"), walked);
        }
    }

    @Test
    void writesLeaveNoTempFilesOnDisk() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("a/b", bytes("first"));
            d.putContent("a/b", bytes("second"));
            d.putContent("c", new byte[0]);
            d.move("a/b", "d/e");
            try (StorageWriter w = d.writer("f/g", false)) {
                w.write(ByteBuffer.wrap(bytes("x")));
                w.commit();
            }
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> temps = files.filter(p -> p.getFileName().toString().startsWith(FilesystemDriver.TEMP_PREFIX)).toList();
            assertEquals(List.of(), temps);
        }
    }

    @Test
    void largeWriteWithBackgroundFlushCommitsExactBytes() throws Exception {
        long total = 2 * FilesystemDriver.BACKGROUND_FLUSH_BYTES + 12_345;
        MessageDigest written = MessageDigest.getInstance("SHA-256");
        Set<Thread> flushersBefore = flushThreads();
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("uploads/big", false)) {
                Random random = new Random(7);
                byte[] chunk = new byte[(1 << 20) + 7];
                for (long left = total; left > 0; ) {
                    random.nextBytes(chunk);
                    int n = (int) Math.min(chunk.length, left);
                    written.update(chunk, 0, n);
                    w.write(ByteBuffer.wrap(chunk, 0, n));
                    left -= n;
                }
                assertEquals(total, w.size());
                Set<Thread> started = flushThreads();
                started.removeAll(flushersBefore);
                // Guards the test itself: it must exercise the background flush.
                assertFalse(started.isEmpty(), "no background flush thread was started");
                w.commit();
            }
            assertEquals(total, d.stat("uploads/big").size());
            MessageDigest read = MessageDigest.getInstance("SHA-256");
            try (InputStream in = d.reader("uploads/big", 0)) {
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = in.read(buf)) > 0; ) {
                    read.update(buf, 0, n);
                }
            }
            assertArrayEquals(written.digest(), read.digest());
        }
    }

    @Test
    void withoutFsyncContentStillRoundTrips() throws Exception {
        try (StorageDriver d = new ValidatingStorageDriver(new FilesystemDriver(root, false))) {
            d.putContent("a/put", bytes("put"));
            assertEquals("put", string(d.getContent("a/put")));
            byte[] big = new byte[(int) FilesystemDriver.BACKGROUND_FLUSH_BYTES + 3];
            new Random(3).nextBytes(big);
            try (StorageWriter w = d.writer("a/written", false)) {
                w.write(ByteBuffer.wrap(big));
                w.commit();
            }
            d.move("a/written", "b/moved");
            assertArrayEquals(big, d.getContent("b/moved"));
            assertEquals(List.of("a", "b"), d.list(""));
        }
    }

    @Test
    void rootIsCreatedWhenMissing() throws Exception {
        Path missing = root.resolve("not/yet/there");
        try (StorageDriver d = new ValidatingStorageDriver(new FilesystemDriver(missing, true))) {
            assertTrue(Files.isDirectory(missing));
            assertEquals(List.of(), d.list(""));
            d.putContent("k", bytes("x"));
            assertArrayEquals(bytes("x"), Files.readAllBytes(missing.resolve("k")));
        }
    }

    private static Set<Thread> flushThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("berth-fs-flush-"))
                .collect(Collectors.toSet());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
