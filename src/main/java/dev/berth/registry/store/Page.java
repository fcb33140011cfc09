package dev.berth.registry.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** One page of a sorted listing, and whether more entries follow it. */
public record Page<T>(List<T> items, boolean hasMore) {

    /**
     * Up to {@code n} items of {@code sorted} whose name sorts after {@code last}, in order.
     * {@code sorted} must be sorted by {@code name}.
     */
    static <T> Page<T> after(List<T> sorted, int n, Optional<String> last, Function<T, String> name) {
        List<T> page = new ArrayList<>();
        for (T item : sorted) {
            if (last.isPresent() && name.apply(item).compareTo(last.get()) <= 0) {
                continue;
            }
            if (page.size() == n) {
                return new Page<>(page, true);
            }
            page.add(item);
        }
        return new Page<>(page, false);
    }
}
