package dev.berth.agent;

import dev.berth.auth.Pem;
import dev.berth.auth.SecretFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A node's client key (ECDSA P-256, made on the node, never sent) and the certificate request the
 * controller signs at registration, or over the session when the certificate is renewed. The controller names the certificate after the node; the name
 * in the request is only a hint.
 */
record ClientKey(KeyPair pair, String csrPem) {

    static ClientKey create(String hostname) throws IOException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = g.generateKeyPair();
            String cn = hostname == null || hostname.isBlank() ? "berth-agent" : hostname;
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(
                    new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build(), pair.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            StringWriter pem = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
                w.writeObject(csr);
            }
            return new ClientKey(pair, pem.toString());
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make a client key: " + e.getMessage(), e);
        }
    }

    /**
     * Puts this key and its renewed certificate in place of the node's current pair, so that a crash
     * at any point leaves a pair that belongs together once {@link #recover} has run: both are
     * written whole beside the old ones (the key first), then the key is moved into place, then the
     * certificate.
     */
    void replace(Path keyFile, Path certFile, String certificatePem) throws IOException {
        List<X509Certificate> chain = Pem.certificates(certificatePem, "the controller's renewed certificate");
        if (!chain.get(0).getPublicKey().equals(pair.getPublic())) {
            throw new IOException("the controller's renewed certificate is not for the key this node asked for");
        }
        Path keyNext = next(keyFile);
        Path certNext = next(certFile);
        SecretFiles.write(keyNext, Pem.encode(pair.getPrivate()), true);
        SecretFiles.write(certNext, certificatePem, false);
        Files.move(keyNext, keyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.move(certNext, certFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Finishes or undoes a {@link #replace} a crash interrupted: a new key alone (its certificate
     * never written) is dropped; a new key and certificate both waiting are dropped (the old pair
     * stands); a new certificate alone means its key is already in place, so it follows.
     */
    static void recover(Path keyFile, Path certFile) throws IOException {
        Path keyNext = next(keyFile);
        Path certNext = next(certFile);
        if (Files.exists(certNext) && !Files.exists(keyNext)) {
            Files.move(certNext, certFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(keyNext);
        Files.deleteIfExists(certNext);
    }

    private static Path next(Path file) {
        return file.resolveSibling(file.getFileName() + ".next");
    }

    /** Keeps the key (0600) and the certificate the controller issued for it, each written whole. */
    void save(Path keyFile, Path certFile, String certificatePem) throws IOException {
        Pem.certificates(certificatePem, "the controller's client certificate");
        SecretFiles.write(keyFile, Pem.encode(pair.getPrivate()), true);
        SecretFiles.write(certFile, certificatePem, false);
    }
}
