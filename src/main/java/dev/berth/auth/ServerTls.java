package dev.berth.auth;

import dev.berth.config.BerthConfig.TlsConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The server's TLS material, from PEM files or from Berth's local authority ({@code tls.auto}), and
 * how it is applied to the HTTP server: only TLS 1.2 and up (or 1.3 only).
 *
 * @param chainPem the server's certificate, then its chain
 * @param keyPem its private key (PKCS#8)
 * @param certificate the server's own certificate
 * @param caFile the local authority's certificate (what clients trust) with {@code auto}; null otherwise
 * @param protocols the TLS versions offered
 */
public record ServerTls(String chainPem, String keyPem, X509Certificate certificate, Path caFile, Set<String> protocols) {

    /** The material {@code config} asks for; null when TLS is off. Fails with a message naming the key. */
    public static ServerTls load(TlsConfig config, Path storageRoot, String listenHost, Clock clock) throws IOException {
        if (!config.enabled()) {
            return null;
        }
        Set<String> protocols = config.minVersion().equals("TLSv1.3") ? Set.of("TLSv1.3") : Set.of("TLSv1.2", "TLSv1.3");
        if (config.auto()) {
            LocalCa ca = LocalCa.loadOrCreate(storageRoot.resolve("pki"), clock);
            LocalCa.Issued server = ca.serverCertificate(autoNames(config.names(), listenHost));
            return new ServerTls(Pem.encode(server.certificate(), ca.certificate()), Pem.encode(server.key()),
                    server.certificate(), ca.certificateFile(), protocols);
        }
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = Pem.readCertificates(Path.of(config.certFile()));
        } catch (IOException e) {
            throw new IOException("tls.certFile: " + e.getMessage(), e);
        }
        try {
            key = Pem.readPrivateKey(Path.of(config.keyFile()));
        } catch (IOException e) {
            throw new IOException("tls.keyFile: " + e.getMessage(), e);
        }
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new IOException("tls.keyFile: " + config.keyFile() + " is not the key of the first certificate in "
                    + config.certFile());
        }
        return new ServerTls(Pem.encode(chain), Pem.encode(key), chain.get(0), null, protocols);
    }

    /** The names a generated certificate covers: those configured, else this host's usual ones. */
    static List<String> autoNames(List<String> configured, String listenHost) {
        if (!configured.isEmpty()) {
            return configured;
        }
        Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
            String host = InetAddress.getLocalHost().getHostName();
            if (host != null && !host.isEmpty() && host.matches("[A-Za-z0-9.-]+")) {
                names.add(host);
            }
        } catch (IOException e) {
            // no host name to add
        }
        if (!listenHost.equals("0.0.0.0") && !listenHost.equals("::") && !listenHost.isEmpty()) {
            names.add(listenHost);
        }
        return new ArrayList<>(names);
    }

    /** Whether {@code key} signs what {@code publicKey} verifies. */
    private static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return true; // an unusual key type: the TLS handshake is the judge
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Makes {@code options} serve HTTPS with this material. */
    public HttpServerOptions apply(HttpServerOptions options) {
        return options.setSsl(true)
                .setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(chainPem)).setKeyValue(Buffer.buffer(keyPem)))
                .setEnabledSecureTransportProtocols(protocols);
    }
}
