package dev.berth.storage.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageWriter;
import dev.berth.testing.S3ProxyServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * S3 specifics beyond the shared contract: writers are multipart uploads that a new driver (as after
 * a restart) continues part by part from where a closed writer stopped, holding one part in memory;
 * cancel leaves no upload and no tail behind; presigned URLs serve the object.
 */
class S3WriterTest {
    private static final int PART = S3Driver.MIN_PART_SIZE;
    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3ProxyServer.start("berth");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static S3Driver driver(String prefix) {
        return new S3Driver(server.client(), server.presigner(), "berth", prefix, PART);
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long openUploads(S3Driver d) {
        return d.client().listMultipartUploads(r -> r.bucket("berth").prefix(d.full(""))).uploads().size();
    }

    @Test
    void anUploadContinuesAcrossDriversPartByPartAndLeavesNothingBehind() throws Exception {
        String prefix = "w-" + UUID.randomUUID() + "/";
        byte[] content = random(2 * PART + 1234, 1);
        S3Driver first = driver(prefix);
        try (StorageWriter w = first.writer("uploads/u1/data", false)) {
            w.write(ByteBuffer.wrap(content, 0, PART + 700_000));
            assertEquals(PART + 700_000, w.size());
        }
        assertEquals(1, openUploads(first), "one part uploaded, the rest kept as a tail");
        assertThrows(PathNotFoundException.class, () -> first.stat("uploads/u1/data"), "nothing visible before commit");
        assertEquals(java.util.List.of(), first.list(""), "the driver's own tail objects are never listed");

        S3Driver second = driver(prefix);
        try (StorageWriter w = second.writer("uploads/u1/data", true)) {
            assertEquals(PART + 700_000, w.size(), "continues exactly where the first one stopped");
            w.write(ByteBuffer.wrap(content, PART + 700_000, content.length - PART - 700_000));
            w.commit();
        }
        assertArrayEquals(content, second.getContent("uploads/u1/data"));
        assertEquals(0, openUploads(second));
        assertEquals(java.util.List.of("uploads"), second.list(""));
        second.delete("uploads");
        assertEquals(java.util.List.of(), second.list(""), "no tail left");
    }

    @Test
    void aTailWhoseBytesWentIntoAPartBeforeACrashIsNotCountedTwice() throws Exception {
        String prefix = "s-" + UUID.randomUUID() + "/";
        byte[] content = random(3 * PART, 6);
        S3Driver d = driver(prefix);
        try (StorageWriter w = d.writer("up/data", false)) {
            w.write(ByteBuffer.wrap(content, 0, PART + 100)); // part 1, and a tail of 100 bytes
        }
        // The next writer starts part 2 with the tail's bytes, uploads it, and the process dies
        // before its close could replace the tail.
        StorageWriter crashed = d.writer("up/data", true);
        crashed.write(ByteBuffer.wrap(content, PART + 100, PART - 100 + 50));
        assertEquals(2 * PART + 50, crashed.size());

        try (StorageWriter w = d.writer("up/data", true)) {
            assertEquals(2 * PART, w.size(), "the stale tail (already in part 2) is ignored; the 50 unsaved bytes are lost");
            w.write(ByteBuffer.wrap(content, 2 * PART, PART));
            w.commit();
        }
        assertArrayEquals(content, d.getContent("up/data"));
    }

    @Test
    void aWriterOpenedOnlyToLearnTheSizeLeavesTheTailAlone() throws Exception {
        S3Driver d = driver("q-" + UUID.randomUUID() + "/");
        try (StorageWriter w = d.writer("up/data", false)) {
            w.write(ByteBuffer.wrap(random(300, 7)));
        }
        // Another process probes the size while this one appends: the probe's close must not put
        // back the tail it read, which would drop the appended bytes.
        StorageWriter probe = d.writer("up/data", true);
        assertEquals(300, probe.size());
        try (StorageWriter w = d.writer("up/data", true)) {
            w.write(ByteBuffer.wrap(random(200, 8)));
        }
        probe.close();
        try (StorageWriter w = d.writer("up/data", true)) {
            assertEquals(500, w.size());
        }
    }

    @Test
    void cancelAfterCloseAbortsTheUploadAndRemovesTheTail() throws Exception {
        S3Driver d = driver("c-" + UUID.randomUUID() + "/");
        try (StorageWriter w = d.writer("up/data", false)) {
            w.write(ByteBuffer.wrap(random(PART + 10, 2)));
        }
        assertEquals(1, openUploads(d));
        StorageWriter again = d.writer("up/data", true);
        again.cancel();
        again.close();
        assertEquals(0, openUploads(d));
        assertEquals(java.util.List.of(), d.list(""));
        try (StorageWriter fresh = d.writer("up/data", true)) {
            assertEquals(0, fresh.size(), "nothing to continue after a cancel");
        }
    }

    @Test
    void aNonAppendingWriterDiscardsAnEarlierUpload() throws Exception {
        S3Driver d = driver("n-" + UUID.randomUUID() + "/");
        try (StorageWriter w = d.writer("up/data", false)) {
            w.write(ByteBuffer.wrap(random(PART + 10, 3)));
        }
        try (StorageWriter w = d.writer("up/data", false)) {
            assertEquals(0, w.size());
            w.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            w.commit();
        }
        assertArrayEquals(new byte[] {1, 2, 3}, d.getContent("up/data"));
        assertEquals(0, openUploads(d));
    }

    @Test
    void aMultipartCopyCopiesEveryRangeInOrder() throws Exception {
        // What move() does above the 5 GiB single-copy limit, here with 5 MiB parts.
        S3Driver d = driver("m-" + UUID.randomUUID() + "/");
        byte[] content = random(2 * PART + 12_345, 5);
        d.putContent("src/data", content);
        S3Writer.multipartCopy(d, d.full("src/data"), d.full("dst/data"), content.length, PART);
        assertArrayEquals(content, d.getContent("dst/data"));
        assertEquals(0, openUploads(d));
    }

    @Test
    void aPresignedUrlServesTheObject() throws Exception {
        S3Driver d = driver("p-" + UUID.randomUUID() + "/");
        byte[] content = random(1000, 4);
        d.putContent("blobs/x/data", content);
        var url = d.redirectUrl("blobs/x/data", "GET").orElseThrow();
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), new String(r.body()));
        assertArrayEquals(content, r.body());
        assertTrue(url.getQuery().contains("X-Amz-Signature"), url.toString());
    }
}
