package dev.berth.agent;

import dev.berth.auth.Pem;
import dev.berth.auth.SecretFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A node's client key (ECDSA P-256, made on the node, never sent) and the certificate request the
 * controller signs at registration. The controller names the certificate after the node; the name
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

    /** Keeps the key (0600) and the certificate the controller issued for it, each written whole. */
    void save(Path keyFile, Path certFile, String certificatePem) throws IOException {
        Pem.certificates(certificatePem, "the controller's client certificate");
        SecretFiles.write(keyFile, Pem.encode(pair.getPrivate()), true);
        SecretFiles.write(certFile, certificatePem, false);
    }
}
