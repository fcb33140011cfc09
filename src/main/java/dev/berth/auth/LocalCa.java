package dev.berth.auth;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Berth's own certificate authority, kept in a directory ({@code storage/pki/} by default): created
 * at first use, then reused, so clients trust it once. It issues the server's certificate for the
 * names it is reached by (reissued when the names change or it nears its end) and, later, client
 * certificates. Keys are ECDSA P-256; key files are readable by their owner only.
 *
 * <pre>
 * ca.crt  ca.key          the authority (10 years)
 * server.crt server.key   the server's certificate, for the configured names (1 year)
 * </pre>
 */
public final class LocalCa {
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration SERVER_VALIDITY = Duration.ofDays(365);
    /** A certificate this close to its end is replaced at start-up. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** An issued certificate and its key, and the PEM files that hold them. */
    public record Issued(Path certificateFile, Path keyFile, X509Certificate certificate, PrivateKey key) {
    }

    private final Path dir;
    private final Clock clock;
    private final SecureRandom random;
    private final X509Certificate certificate;
    private final PrivateKey key;

    private LocalCa(Path dir, Clock clock, SecureRandom random, X509Certificate certificate, PrivateKey key) {
        this.dir = dir;
        this.clock = clock;
        this.random = random;
        this.certificate = certificate;
        this.key = key;
    }

    /** The authority in {@code dir}: loaded when there, created otherwise. */
    public static LocalCa loadOrCreate(Path dir, Clock clock) throws IOException {
        SecureRandom random = new SecureRandom();
        Path crt = dir.resolve("ca.crt");
        Path keyFile = dir.resolve("ca.key");
        if (Files.exists(crt) && Files.exists(keyFile)) {
            return new LocalCa(dir, clock, random, Pem.readCertificates(crt).get(0), Pem.readPrivateKey(keyFile));
        }
        if (Files.exists(crt) || Files.exists(keyFile)) {
            throw new IOException(dir + ": has only one of ca.crt and ca.key; restore the other or remove both "
                    + "to create a new authority (clients then have to trust the new ca.crt)");
        }
        Files.createDirectories(dir);
        KeyPair pair = newKeyPair(random);
        Instant now = clock.instant();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Berth")
                .addRDN(BCStyle.CN, "Berth local CA " + now.getEpochSecond()).build();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(random),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = sign(b, pair.getPrivate());
            SecretFiles.write(keyFile, Pem.encode(pair.getPrivate()), true);
            SecretFiles.write(crt, Pem.encode(cert), false);
            return new LocalCa(dir, clock, random, cert, pair.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IOException("cannot create a certificate authority: " + e.getMessage(), e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** The authority's certificate, what clients trust. */
    public Path certificateFile() {
        return dir.resolve("ca.crt");
    }

    /**
     * The server certificate for {@code names} (DNS names and IP addresses): the one on disk when it
     * covers them, was issued by this authority and is not near its end; a new one otherwise.
     */
    public Issued serverCertificate(Collection<String> names) throws IOException {
        Path crt = dir.resolve("server.crt");
        Path keyFile = dir.resolve("server.key");
        Set<String> wanted = normalized(names);
        if (Files.exists(crt) && Files.exists(keyFile)) {
            X509Certificate existing = Pem.readCertificates(crt).get(0);
            if (usable(existing, wanted)) {
                return new Issued(crt, keyFile, existing, Pem.readPrivateKey(keyFile));
            }
        }
        KeyPair pair = newKeyPair(random);
        List<String> ordered = new ArrayList<>(wanted);
        X509Certificate cert = issue(pair.getPublic(), ordered.isEmpty() ? "berth" : ordered.get(0), ordered,
                KeyPurposeId.id_kp_serverAuth, SERVER_VALIDITY);
        SecretFiles.write(keyFile, Pem.encode(pair.getPrivate()), true);
        SecretFiles.write(crt, Pem.encode(cert), false);
        return new Issued(crt, keyFile, cert, pair.getPrivate());
    }

    private boolean usable(X509Certificate cert, Set<String> wanted) throws IOException {
        try {
            cert.verify(certificate.getPublicKey());
        } catch (GeneralSecurityException e) {
            return false; // issued by an earlier authority
        }
        if (cert.getNotAfter().toInstant().isBefore(clock.instant().plus(RENEW_BEFORE))) {
            return false;
        }
        try {
            Set<String> has = new HashSet<>();
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    has.add(String.valueOf(san.get(1)).toLowerCase(Locale.ROOT));
                }
            }
            return has.equals(wanted);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the names of the server certificate: " + e.getMessage(), e);
        }
    }

    /** A client certificate (extended key usage clientAuth) for {@code publicKey}, named {@code commonName}. */
    public X509Certificate clientCertificate(PublicKey publicKey, String commonName, Duration validity) throws IOException {
        return issue(publicKey, commonName, List.of(), KeyPurposeId.id_kp_clientAuth, validity);
    }

    /** {@code wanted}, or the authority's own end when that comes first (nothing it signs outlives it). */
    private Date notAfter(Instant wanted) {
        Date own = certificate.getNotAfter();
        return wanted.isAfter(own.toInstant()) ? own : Date.from(wanted);
    }

    /**
     * A certificate for {@code publicKey}, signed by this authority, with {@code names} as subject
     * alternative names and {@code purpose} as its extended key usage.
     */
    X509Certificate issue(PublicKey publicKey, String commonName, List<String> names, KeyPurposeId purpose,
                          Duration validity) throws IOException {
        Instant now = clock.instant();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Berth")
                .addRDN(BCStyle.CN, commonName).build();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(random),
                    Date.from(now.minus(Duration.ofMinutes(5))), notAfter(now.plus(validity)), subject, publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            if (!names.isEmpty()) {
                List<GeneralName> sans = new ArrayList<>();
                for (String name : names) {
                    sans.add(isIp(name) ? new GeneralName(GeneralName.iPAddress, name) : new GeneralName(GeneralName.dNSName, name));
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            return sign(b, key);
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IOException("cannot issue a certificate for " + commonName + ": " + e.getMessage(), e);
        }
    }

    /** Names as a certificate lists them: lower case; IPv6 addresses as Java prints them. */
    private static Set<String> normalized(Collection<String> names) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        for (String raw : names) {
            String name = raw.trim().toLowerCase(Locale.ROOT);
            if (name.startsWith("[") && name.endsWith("]")) {
                name = name.substring(1, name.length() - 1);
            }
            if (name.contains(":")) {
                // Java reports IPv6 SANs in full form (0:0:0:0:0:0:0:1); compare like with like.
                name = java.net.InetAddress.getByName(name).getHostAddress();
            }
            if (!name.isEmpty()) {
                out.add(name);
            }
        }
        return out;
    }

    static boolean isIp(String name) {
        return name.contains(":") || IPV4.matcher(name).matches();
    }

    private static KeyPair newKeyPair(SecureRandom random) throws IOException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate an EC key: " + e.getMessage(), e);
        }
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
    }
}
