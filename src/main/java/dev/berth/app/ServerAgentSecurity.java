package dev.berth.app;

import dev.berth.agent.protocol.Messages;
import dev.berth.auth.LocalCa;
import dev.berth.auth.Pem;
import dev.berth.auth.Principal;
import dev.berth.auth.TokenService;
import dev.berth.deploy.ImageResolver;
import dev.berth.deploy.api.AgentSecurity;
import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.model.ImageReference;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * The server's side of agent security: client certificates from Berth's authority (when the server
 * speaks TLS; the session then needs one naming the node; the node renews it over that session),
 * and pull credentials (when
 * authentication is on): for each registry host Berth answers to, a {@code pull} token for exactly
 * the repositories of the node's images there.
 */
final class ServerAgentSecurity implements AgentSecurity {
    /** The user name a pull credential goes with (any name works; this one says what it is). */
    static final String PULL_USER = "berth-agent";

    private final LocalCa ca;
    private final TokenService tokens;
    private final ImageResolver images;
    private final Duration pullTtl;
    private final Duration certificateTtl;

    /**
     * @param ca the authority that signs client certificates; null when the server has no TLS
     * @param tokens signs pull credentials; null when the registry needs none (auth.mode none)
     * @param certificateTtl how long a node's client certificate lasts (the agent renews it over its
     *     session once less than a third is left)
     */
    ServerAgentSecurity(LocalCa ca, TokenService tokens, ImageResolver images, Duration pullTtl,
                        Duration certificateTtl) {
        this.ca = ca;
        this.tokens = tokens;
        this.images = images;
        this.pullTtl = pullTtl;
        this.certificateTtl = certificateTtl;
    }

    @Override
    public boolean clientCertificates() {
        return ca != null;
    }

    @Override
    public void checkRequest(String csrPem) {
        request(csrPem);
    }

    private static JcaPKCS10CertificationRequest request(String csrPem) {
        Object o;
        try (PEMParser parser = new PEMParser(new StringReader(csrPem))) {
            o = parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw new FieldException("csr", "csr is not a readable PEM certificate request: " + e.getMessage());
        }
        if (!(o instanceof PKCS10CertificationRequest raw)) {
            throw new FieldException("csr", "csr must be a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)");
        }
        JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(raw);
        try {
            PublicKey key = csr.getPublicKey();
            if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("RSA")) {
                throw new FieldException("csr", "csr: the key must be EC or RSA, not " + key.getAlgorithm());
            }
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw new FieldException("csr", "csr: its signature does not verify (the request was not made with its key)");
            }
        } catch (FieldException e) {
            throw e;
        } catch (Exception e) {
            throw new FieldException("csr", "csr cannot be checked: " + e.getMessage());
        }
        return csr;
    }

    @Override
    public String certify(String nodeId, String csrPem) {
        try {
            X509Certificate cert = ca.clientCertificate(request(csrPem).getPublicKey(), nodeId, certificateTtl);
            return Pem.encode(cert, ca.certificate());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean certifies(List<X509Certificate> chain, String nodeId) {
        if (chain.isEmpty() || ca == null) {
            return false;
        }
        X509Certificate leaf = chain.get(0);
        try {
            leaf.verify(ca.certificate().getPublicKey());
            leaf.checkValidity();
            List<String> usages = leaf.getExtendedKeyUsage();
            if (usages == null || !usages.contains("1.3.6.1.5.5.7.3.2")) {
                return false; // not a client certificate (a server certificate of the same authority, say)
            }
        } catch (Exception e) {
            return false;
        }
        return nodeId.equals(commonName(leaf.getSubjectX500Principal()));
    }

    private static String commonName(X500Principal principal) {
        RDN[] cns = new X500Name(principal.getName(X500Principal.RFC2253)).getRDNs(BCStyle.CN);
        return cns.length == 1 ? IETFUtils.valueToString(cns[0].getFirst().getValue()) : null;
    }

    @Override
    public Map<String, Messages.RegistryAuth> pullCredentials(String nodeId, List<Messages.TaskSpec> tasks) {
        if (tokens == null) {
            return null;
        }
        Map<String, Set<String>> repositories = new TreeMap<>();
        for (Messages.TaskSpec t : tasks) {
            if (t.images() == null) {
                continue;
            }
            for (String image : t.images().values()) {
                ImageReference ref;
                try {
                    ref = ImageReference.parse(image);
                } catch (RuntimeException e) {
                    continue;
                }
                if (ref.registry() != null && images.isThisRegistry(ref.registry())) {
                    repositories.computeIfAbsent(ref.registry(), k -> new TreeSet<>()).add(ref.repository());
                }
            }
        }
        Map<String, Messages.RegistryAuth> credentials = new LinkedHashMap<>();
        repositories.forEach((host, repos) -> {
            List<Principal.Grant> grants = repos.stream()
                    .map(r -> new Principal.Grant("repository", r, Set.of("pull"))).toList();
            credentials.put(host, new Messages.RegistryAuth(PULL_USER, tokens.issuePull(nodeId, grants, pullTtl)));
        });
        return credentials;
    }

    @Override
    public Duration pullCredentialTtl() {
        return pullTtl;
    }
}
