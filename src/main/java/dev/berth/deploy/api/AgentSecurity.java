package dev.berth.deploy.api;

import dev.berth.agent.protocol.Messages;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the agent gateway needs from the server's security: client certificates for nodes (mTLS on
 * the agent session when the server speaks TLS), and pull credentials for the images a node runs
 * (when the registry needs credentials).
 */
public interface AgentSecurity {
    /** Whether agents must present a client certificate from Berth's authority on their session. */
    boolean clientCertificates();

    /**
     * Checks a PKCS#10 certificate request (PEM) before a node is registered; throws
     * {@link dev.berth.deploy.model.FieldException} naming {@code csr} when it is unusable.
     */
    void checkRequest(String csrPem);

    /**
     * A client certificate for node {@code nodeId} for the key in {@code csrPem}: PEM, the certificate
     * then the authority's. The request is checked as in {@link #checkRequest}.
     */
    String certify(String nodeId, String csrPem);

    /** Whether {@code chain} (from the TLS handshake, already verified against Berth's authority) names {@code nodeId}. */
    boolean certifies(List<X509Certificate> chain, String nodeId);

    /** Pull credentials for {@code nodeId} covering the images of {@code tasks}, by registry host; null or empty for none. */
    Map<String, Messages.RegistryAuth> pullCredentials(String nodeId, List<Messages.TaskSpec> tasks);

    /** How long a pull credential lasts: a node gets a fresh one when half of it is gone. */
    Duration pullCredentialTtl();
}
