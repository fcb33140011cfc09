package dev.berth.deploy.model;

import java.time.Instant;

/** A line of a service's history ({@code events[]}, newest first, the last 100 kept). */
public record ServiceEvent(String id, Instant createdAt, String message) {
}
