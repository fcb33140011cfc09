package dev.berth.deploy;

import dev.berth.deploy.model.FieldException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * ECS-style paging of list actions: {@code maxResults} (1-100, default 100) and an opaque
 * {@code nextToken} that carries the sort key of the last item returned, so that a page boundary
 * stays put while items are added or removed.
 */
record Paging<T>(List<T> items, String nextToken) {
    static final int MAX = 100;

    /** {@code sorted} must be in ascending order of {@code key}. */
    static <T> Paging<T> of(List<T> sorted, Function<T, String> key, Integer maxResults, String nextToken) {
        int max = maxResults == null ? MAX : maxResults;
        if (max < 1 || max > MAX) {
            throw new FieldException("maxResults", "maxResults must be between 1 and " + MAX + ", not " + max);
        }
        String after = nextToken == null ? null : decode(nextToken);
        List<T> page = new ArrayList<>();
        String next = null;
        for (T item : sorted) {
            if (after != null && key.apply(item).compareTo(after) <= 0) {
                continue;
            }
            if (page.size() == max) {
                next = encode(key.apply(page.get(page.size() - 1)));
                break;
            }
            page.add(item);
        }
        return new Paging<>(page, next);
    }

    private static String encode(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("v1:" + key).getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String token) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (s.startsWith("v1:")) {
                return s.substring(3);
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new FieldException("nextToken", "nextToken is not a token this server issued");
    }
}
