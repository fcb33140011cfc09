package dev.berth.registry.store;

import java.util.List;

/** One page of a sorted listing, and whether more entries follow it. */
public record Page<T>(List<T> items, boolean hasMore) {
}
