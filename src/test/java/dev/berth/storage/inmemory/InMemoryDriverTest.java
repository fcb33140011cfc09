package dev.berth.storage.inmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageDriverContract;
import dev.berth.storage.StorageWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryDriverTest implements StorageDriverContract {

    @Override
    public StorageDriver newDriver() {
        return new InMemoryDriver();
    }

    @Test
    void uncommittedWriterContentIsInvisibleUntilCommit() throws Exception {
        try (StorageDriver d = driver()) {
            try (StorageWriter w = d.writer("up/k", false)) {
                w.write(ByteBuffer.wrap(bytes("draft")));
                assertThrows(PathNotFoundException.class, () -> d.getContent("up/k"));
                assertThrows(PathNotFoundException.class, () -> d.reader("up/k", 0).close());
                assertThrows(PathNotFoundException.class, () -> d.stat("up/k"));
                assertThrows(PathNotFoundException.class, () -> d.stat("up"));
                assertEquals(List.of(), d.list(""));
                w.commit();
            }
            assertEquals("draft", string(d.getContent("up/k")));

            try (StorageWriter w = d.writer("up/later", false)) {
                w.write(ByteBuffer.wrap(bytes("part")));
            }
            // Closed but uncommitted: still invisible.
            assertThrows(PathNotFoundException.class, () -> d.getContent("up/later"));
            assertEquals(List.of("up/k"), d.list("up"));
            try (StorageWriter w = d.writer("up/later", true)) {
                w.write(ByteBuffer.wrap(bytes("ial")));
                w.commit();
            }
            assertEquals("partial", string(d.getContent("up/later")));
        }
    }

    @Test
    void uncommittedWriterLeavesEarlierCommittedContentInPlace() throws Exception {
        try (StorageDriver d = driver()) {
            d.putContent("k", bytes("old"));
            try (StorageWriter w = d.writer("k", false)) {
                w.write(ByteBuffer.wrap(bytes("new")));
                assertEquals("old", string(d.getContent("k")));
                w.commit();
            }
            assertEquals("new", string(d.getContent("k")));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
