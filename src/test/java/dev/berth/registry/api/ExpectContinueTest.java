package dev.berth.registry.api;

import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.RegistryClient.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Expect: 100-continue} (curl sends it for large uploads): "100 Continue" comes only when the
 * server wants the body, so a refused upload costs the client nothing; and idle connections are
 * closed after {@code http.idleTimeout}, even below a second.
 */
class ExpectContinueTest {
    @TempDir
    static Path storage;
    static TestRegistry registry;

    @BeforeAll
    static void start() throws Exception {
        registry = TestRegistry.start(storage, Map.of("http.idleTimeout", "700ms"));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void aRefusedUploadIsAnsweredWithoutAskingForTheBody() throws Exception {
        try (Socket s = new Socket("127.0.0.1", registry.port())) {
            s.setSoTimeout(5000);
            send(s, "PATCH /v2/exp/repo/blobs/uploads/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\n"
                    + "Host: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 404"), head);
        }
    }

    @Test
    void anAcceptedUploadGets100ContinueThenItsAnswer() throws Exception {
        RegistryClient c = registry.client();
        String location = header(c.post("/v2/exp/repo/blobs/uploads/", new byte[0]), "Location");
        byte[] body = "hello, berth".getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket("127.0.0.1", registry.port())) {
            s.setSoTimeout(5000);
            send(s, "PATCH " + location + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length
                    + "\r\nExpect: 100-continue\r\n\r\n");
            String interim = readHead(s.getInputStream());
            assertTrue(interim.startsWith("HTTP/1.1 100"), interim);
            s.getOutputStream().write(body);
            String fin = readHead(s.getInputStream());
            assertTrue(fin.startsWith("HTTP/1.1 202"), fin);
        }
        assertEquals(201, c.put(location + "?digest=" + sha256(body), new byte[0]).statusCode());
    }

    @Test
    void idleConnectionsAreClosedAfterASubSecondTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", registry.port())) {
            s.setSoTimeout(10_000);
            long start = System.nanoTime();
            assertEquals(-1, s.getInputStream().read(), "the server closes the idle connection");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 5000, "closed after " + ms + " ms");
        }
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads one response head (up to the blank line); a body, if any, stays unread. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; matched < 4 && (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == '\r' || b == '\n') ? (((matched == 0 || matched == 2) && b == '\r')
                    || ((matched == 1 || matched == 3) && b == '\n') ? matched + 1 : (b == '\r' ? 1 : 0)) : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
