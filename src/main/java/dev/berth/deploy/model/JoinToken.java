package dev.berth.deploy.model;

import java.time.Instant;

/**
 * What the controller keeps of a join token: its id, the cluster it names, the SHA-256 of its
 * secret part (the secret itself is shown once, at creation), and when it expires.
 */
public record JoinToken(String id, String cluster, String secretSha256, Instant createdAt, Instant expiresAt) {
}
