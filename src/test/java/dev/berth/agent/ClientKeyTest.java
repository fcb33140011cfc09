package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A renewal's files after a crash at each step: {@link ClientKey#recover} always leaves a key and a
 * certificate that were written together (the old pair or the new one), and nothing half-done.
 */
class ClientKeyTest {
    @TempDir
    Path dir;

    private Path key() {
        return dir.resolve("agent.key");
    }

    private Path cert() {
        return dir.resolve("agent.crt");
    }

    private void files(String key, String cert, String keyNext, String certNext) throws IOException {
        Files.writeString(key(), key);
        Files.writeString(cert(), cert);
        if (keyNext != null) {
            Files.writeString(dir.resolve("agent.key.next"), keyNext);
        }
        if (certNext != null) {
            Files.writeString(dir.resolve("agent.crt.next"), certNext);
        }
    }

    private void assertPair(String key, String cert) throws IOException {
        ClientKey.recover(key(), cert());
        assertEquals(key, Files.readString(key()));
        assertEquals(cert, Files.readString(cert()));
        assertFalse(Files.exists(dir.resolve("agent.key.next")));
        assertFalse(Files.exists(dir.resolve("agent.crt.next")));
    }

    @Test
    void aCrashBeforeTheNewCertificateWasWrittenKeepsTheOldPair() throws IOException {
        files("old key", "old cert", "new key", null);
        assertPair("old key", "old cert");
    }

    @Test
    void aCrashBeforeEitherMoveKeepsTheOldPair() throws IOException {
        files("old key", "old cert", "new key", "new cert");
        assertPair("old key", "old cert");
    }

    @Test
    void aCrashBetweenTheMovesFinishesWithTheNewPair() throws IOException {
        files("new key", "old cert", null, "new cert");
        assertPair("new key", "new cert");
    }

    @Test
    void nothingPendingChangesNothing() throws IOException {
        files("key", "cert", null, null);
        assertPair("key", "cert");
    }

    @Test
    void aCertificateForAnotherKeyIsNeverPutInPlace() throws Exception {
        ClientKey asked = ClientKey.create("node");
        ClientKey other = ClientKey.create("node");
        dev.berth.auth.LocalCa ca = dev.berth.auth.LocalCa.loadOrCreate(dir.resolve("pki"), java.time.Clock.systemUTC());
        String forOther = dev.berth.auth.Pem.encode(ca.clientCertificate(other.pair().getPublic(), "node",
                java.time.Duration.ofDays(1)));
        files("old key", "old cert", null, null);
        IOException e = assertThrows(IOException.class, () -> asked.replace(key(), cert(), forOther));
        assertEquals("the controller's renewed certificate is not for the key this node asked for", e.getMessage());
        assertPair("old key", "old cert");
        other.replace(key(), cert(), forOther);
        assertEquals(forOther, Files.readString(cert()));
    }
}
