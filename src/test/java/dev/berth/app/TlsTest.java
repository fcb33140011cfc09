package dev.berth.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.auth.Pem;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.OciLayout;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS: a generated authority and server certificate ({@code tls.auto}) kept across restarts and
 * reissued when the names change; PEM files as tools write them (RSA and EC keys, PKCS#1, SEC1 and
 * PKCS#8) and a key that does not match; TLS versions below the minimum refused; and real clients
 * (skopeo, the CLI) trusting the authority.
 */
class TlsTest {
    @TempDir
    Path tmp;

    private static HttpClient trusting(Path ca) throws IOException {
        return HttpClient.newBuilder().sslContext(Pem.trusting(ca)).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> names(X509Certificate cert) throws Exception {
        List<String> out = new ArrayList<>();
        for (List<?> san : cert.getSubjectAlternativeNames()) {
            out.add(String.valueOf(san.get(1)));
        }
        return out;
    }

    private ExternalCommand.Result run(String... command) throws Exception {
        return ExternalCommand.run(List.of(command), Map.of(), tmp, Duration.ofMinutes(2));
    }

    @Test
    void autoCreatesAnAuthorityOnceAndServesHttpsThatClientsTrustingItAccept() throws Exception {
        Path storage = tmp.resolve("storage");
        Path pki = storage.resolve("pki");
        byte[] caBefore;
        byte[] serverBefore;
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true"))) {
            HttpClient client = trusting(pki.resolve("ca.crt"));
            for (String host : List.of("127.0.0.1", "localhost")) {
                HttpResponse<String> base = get(client, "https://" + host + ":" + berth.port() + "/v2/");
                assertEquals(200, base.statusCode());
                assertEquals("registry/2.0", base.headers().firstValue("Docker-Distribution-API-Version").orElse(null));
            }
            // The certificate names this host's usual names and chains to the authority.
            X509Certificate server = Pem.readCertificates(pki.resolve("server.crt")).get(0);
            X509Certificate ca = Pem.readCertificates(pki.resolve("ca.crt")).get(0);
            server.verify(ca.getPublicKey());
            assertTrue(names(server).containsAll(List.of("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1")), names(server).toString());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.resolve("ca.key"))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.resolve("server.key"))));
            // A client that does not trust the authority is refused; plain HTTP gets no answer.
            HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            assertThrows(SSLHandshakeException.class, () -> get(untrusting, "https://127.0.0.1:" + berth.port() + "/v2/"));
            assertThrows(IOException.class, () -> get(untrusting, "http://127.0.0.1:" + berth.port() + "/v2/"));
            caBefore = Files.readAllBytes(pki.resolve("ca.crt"));
            serverBefore = Files.readAllBytes(pki.resolve("server.crt"));
        }
        // A restart keeps both: clients trust the authority once.
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true"))) {
            assertArrayEquals(caBefore, Files.readAllBytes(pki.resolve("ca.crt")));
            assertArrayEquals(serverBefore, Files.readAllBytes(pki.resolve("server.crt")));
            assertEquals(200, get(trusting(pki.resolve("ca.crt")), "https://127.0.0.1:" + berth.port() + "/v2/").statusCode());
        }
        // Other names: a new server certificate from the same authority.
        Path config = tmp.resolve("berth.yaml");
        Files.writeString(config, "tls:\n  auto: true\n  names: [registry.example, 127.0.0.1]\n");
        try (TestRegistry berth = TestRegistry.start(storage, config, Map.of())) {
            assertArrayEquals(caBefore, Files.readAllBytes(pki.resolve("ca.crt")));
            X509Certificate server = Pem.readCertificates(pki.resolve("server.crt")).get(0);
            assertEquals(List.of("registry.example", "127.0.0.1"), names(server));
            assertEquals(200, get(trusting(pki.resolve("ca.crt")), "https://127.0.0.1:" + berth.port() + "/v2/").statusCode());
            // localhost is not among the names any more: the client refuses the certificate.
            assertThrows(IOException.class, () -> get(trusting(pki.resolve("ca.crt")), "https://localhost:" + berth.port() + "/v2/"));
        }
    }

    @Test
    void versionsBelowTheMinimumAreRefused() throws Exception {
        RequiredTools.require(RequiredTools.run("openssl", "version") == 0, "openssl (apt-get install openssl)");
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("a"), Map.of("tls.auto", "true"))) {
            String at = "127.0.0.1:" + berth.port();
            assertEquals(0, handshake(at, "-tls1_2").exitCode());
            assertEquals(0, handshake(at, "-tls1_3").exitCode());
            assertNotEquals(0, handshake(at, "-tls1_1").exitCode());
        }
        try (TestRegistry berth = TestRegistry.start(tmp.resolve("b"), Map.of("tls.auto", "true", "tls.minVersion", "TLSv1.3"))) {
            String at = "127.0.0.1:" + berth.port();
            assertEquals(0, handshake(at, "-tls1_3").exitCode());
            ExternalCommand.Result old = handshake(at, "-tls1_2");
            assertNotEquals(0, old.exitCode(), old.toString());
        }
    }

    /** An openssl handshake with one protocol version (the client allows old ones too). */
    private ExternalCommand.Result handshake(String at, String version) throws Exception {
        return ExternalCommand.run(List.of("openssl", "s_client", "-connect", at, version, "-cipher", "DEFAULT@SECLEVEL=0",
                "-brief"), Map.of(), tmp, Duration.ofSeconds(30));
    }

    @Test
    void pemFilesAsToolsWriteThemAreServedAndAKeyThatDoesNotMatchIsRefused() throws Exception {
        RequiredTools.require(RequiredTools.run("openssl", "version") == 0, "openssl (apt-get install openssl)");
        // RSA with a PKCS#1 key, EC with a SEC1 key, EC with a PKCS#8 key.
        String[][] kinds = {
                {"rsa", "-newkey", "rsa:2048", "-traditional"},
                {"ec", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-traditional"},
                {"ec8", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"},
        };
        for (String[] kind : kinds) {
            Path cert = tmp.resolve(kind[0] + ".crt");
            Path key = tmp.resolve(kind[0] + ".key");
            List<String> req = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString()));
            boolean traditional = kind[kind.length - 1].equals("-traditional");
            for (int i = 1; i < kind.length - (traditional ? 1 : 0); i++) {
                req.add(kind[i]);
            }
            ExternalCommand.Result made = ExternalCommand.run(req, Map.of(), tmp, Duration.ofMinutes(1));
            assertEquals(0, made.exitCode(), made.toString());
            if (traditional) {
                String type = kind[0].equals("rsa") ? "rsa" : "ec";
                // openssl rsa writes PKCS#8 unless told otherwise; openssl ec writes SEC1 by default.
                ExternalCommand.Result conv = type.equals("rsa")
                        ? run("openssl", "rsa", "-in", key.toString(), "-out", key.toString(), "-traditional")
                        : run("openssl", "ec", "-in", key.toString(), "-out", key.toString());
                assertEquals(0, conv.exitCode(), conv.toString());
                assertTrue(Files.readString(key).contains("BEGIN " + type.toUpperCase() + " PRIVATE KEY"), Files.readString(key));
            } else {
                assertTrue(Files.readString(key).contains("BEGIN PRIVATE KEY"));
            }
            try (TestRegistry berth = TestRegistry.start(tmp.resolve("s-" + kind[0]),
                    Map.of("tls.certFile", cert.toString(), "tls.keyFile", key.toString()))) {
                assertEquals(200, get(trusting(cert), "https://localhost:" + berth.port() + "/v2/").statusCode(), kind[0]);
            }
        }
        // The RSA certificate with the EC key: refused at start-up, naming the key.
        IOException e = assertThrows(IOException.class, () -> TestRegistry.start(tmp.resolve("bad"),
                Map.of("tls.certFile", tmp.resolve("rsa.crt").toString(), "tls.keyFile", tmp.resolve("ec.key").toString())));
        assertTrue(e.getMessage().contains("tls.keyFile") && e.getMessage().contains("not the key"), e.getMessage());
        // A file that holds no certificate.
        Path junk = Files.writeString(tmp.resolve("junk.pem"), "not a certificate\n");
        e = assertThrows(IOException.class, () -> TestRegistry.start(tmp.resolve("bad2"),
                Map.of("tls.certFile", junk.toString(), "tls.keyFile", tmp.resolve("ec.key").toString())));
        assertTrue(e.getMessage().contains("tls.certFile"), e.getMessage());
    }

    @Test
    void skopeoAndTheCliTrustTheAuthority() throws Exception {
        RequiredTools.skopeo();
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true"))) {
            Path ca = storage.resolve("pki/ca.crt");
            // skopeo reads CA certificates (*.crt) from a directory; it verifies the server with them.
            Path certs = Files.createDirectories(tmp.resolve("certs"));
            Files.copy(ca, certs.resolve("ca.crt"));
            OciLayout layout = OciLayout.create(tmp.resolve("layout"), new Random(3));
            OciLayout.Image image = layout.image("amd64", 2, 50_000);
            layout.tag(image, "v1");
            String ref = "docker://127.0.0.1:" + berth.port() + "/team/tls:v1";
            ExternalCommand.Result push = run("skopeo", "copy", "--dest-cert-dir", certs.toString(),
                    "oci:" + layout.dir() + ":v1", ref);
            assertEquals(0, push.exitCode(), push.toString());
            Path out = tmp.resolve("out");
            ExternalCommand.Result pull = run("skopeo", "copy", "--src-cert-dir", certs.toString(), ref, "oci:" + out + ":v1");
            assertEquals(0, pull.exitCode(), pull.toString());
            assertEquals(image.digest(), OciLayout.refDigest(out, "v1"));
            // Without the authority (and without --tls-verify=false), skopeo refuses the server.
            ExternalCommand.Result refused = run("skopeo", "inspect", "--raw", ref);
            assertNotEquals(0, refused.exitCode());
            assertTrue(refused.stderr().contains("certificate"), refused.toString());

            String server = "https://127.0.0.1:" + berth.port();
            Cli.Run ls = Cli.berth("webhook", "ls", "--server", server, "--ca-file", ca.toString(), "-o", "json");
            assertEquals(0, ls.exit(), ls.err());
            Cli.Run untrusted = Cli.berth("webhook", "ls", "--server", server);
            assertEquals(1, untrusted.exit());
            assertFalse(untrusted.err().isEmpty());
            Cli.Run missing = Cli.berth("webhook", "ls", "--server", server, "--ca-file", tmp.resolve("nope.crt").toString());
            assertTrue(missing.err().contains("--ca-file"), missing.err());
        }
    }
}
