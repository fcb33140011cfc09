package dev.berth.auth;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM files read and written with Bouncy Castle: certificate chains, and private keys in any of the
 * unencrypted forms tools write (PKCS#8 {@code PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}, SEC1
 * {@code EC PRIVATE KEY}). Keys are handed on as PKCS#8, the one form every TLS stack reads.
 */
public final class Pem {
    private Pem() {
    }

    /** The certificates in {@code file}, in order (a server's own first, then its chain). */
    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        return certificates(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
    }

    /** The certificates in PEM {@code text}; {@code source} names it in errors. */
    public static List<X509Certificate> certificates(String text, String source) throws IOException {
        List<X509Certificate> certs = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof X509CertificateHolder holder) {
                    certs.add(new JcaX509CertificateConverter().getCertificate(holder));
                }
            }
        } catch (CertificateException | RuntimeException e) {
            throw new IOException(source + ": not a readable PEM certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
            throw new IOException(source + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        }
        return certs;
    }

    /** The one private key in {@code file}. */
    public static PrivateKey readPrivateKey(Path file) throws IOException {
        String source = file.toString();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(in)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
                if (o instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new IOException(source + ": the private key is encrypted; give Berth an unencrypted key "
                            + "(e.g. openssl pkey -in KEY -out PLAIN) and protect the file's permissions instead");
                }
            }
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException(source + ": not a readable PEM private key: " + e.getMessage(), e);
        }
        throw new IOException(source + ": no PEM private key (-----BEGIN PRIVATE KEY----- or the RSA/EC forms) in it");
    }

    /** A TLS client context that trusts the certificates in {@code caFile} (and nothing else). */
    public static javax.net.ssl.SSLContext trusting(Path caFile) throws IOException {
        List<X509Certificate> certs = readCertificates(caFile);
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certs.size(); i++) {
                store.setCertificateEntry("ca" + i, certs.get(i));
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(caFile + ": cannot be used to trust a server: " + e.getMessage(), e);
        }
    }

    /** {@code objects} (certificates, keys) as PEM text; keys come out as PKCS#8. */
    public static String encode(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                if (o instanceof PrivateKey key) {
                    writer.writeObject(new JcaPKCS8Generator(key, null)); // "PRIVATE KEY", whatever the algorithm
                } else if (o instanceof List<?> list) {
                    for (Object item : list) {
                        writer.writeObject(item);
                    }
                } else {
                    writer.writeObject(o);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
