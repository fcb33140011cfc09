package dev.berth.registry.api;

import dev.berth.manifest.MediaTypes;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The manifest media types a client accepts, from all its {@code Accept} headers. No header (old
 * clients send none), only empty ones, or a wildcard accept everything; entries with {@code q=0} are
 * excluded.
 */
final class AcceptedTypes {
    private final Set<String> types;
    private final boolean any;

    private AcceptedTypes(Set<String> types, boolean any) {
        this.types = types;
        this.any = any;
    }

    static AcceptedTypes of(List<String> acceptHeaders) {
        Set<String> types = new HashSet<>();
        boolean any = false;
        boolean anyEntry = false;
        for (String header : acceptHeaders) {
            for (String part : header.split(",")) {
                String essence = MediaTypes.essence(part);
                if (essence == null) {
                    continue;
                }
                anyEntry = true;
                if (quality(part) == 0) {
                    continue; // q=0 means "not acceptable"
                }
                if (essence.equals("*/*") || essence.equals("application/*")) {
                    any = true;
                }
                types.add(essence);
            }
        }
        return new AcceptedTypes(types, any || !anyEntry);
    }

    /** The {@code q} parameter of one Accept entry; 1 when absent or unreadable. */
    private static double quality(String entry) {
        String[] params = entry.split(";");
        for (int i = 1; i < params.length; i++) {
            String param = params[i].trim();
            if (param.startsWith("q=")) {
                try {
                    return Double.parseDouble(param.substring(2).trim());
                } catch (NumberFormatException e) {
                    return 1;
                }
            }
        }
        return 1;
    }

    boolean accepts(String mediaType) {
        return any || types.contains(mediaType);
    }

    @Override
    public String toString() {
        return any ? "*/*" : String.join(", ", types);
    }
}
