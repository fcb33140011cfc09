package dev.berth.deploy.model;

import java.time.Instant;

/**
 * What the controller keeps of a join token: its id, the cluster it names, the SHA-256 of its
 * secret part (the secret itself is shown once, at creation), when it expires, and how many more
 * nodes may join with it ({@code usesLeft}; 1 for a single-use token, the default). A token whose
 * uses are spent is deleted.
 */
public record JoinToken(String id, String cluster, String secretSha256, Instant createdAt, Instant expiresAt,
                        Integer usesLeft) {
    public JoinToken {
        // Tokens stored before uses were counted had none left to spare.
        usesLeft = usesLeft == null ? 1 : usesLeft;
    }
}
