package dev.berth.notify;

import dev.berth.config.BerthConfig.FilterConfig;
import dev.berth.manifest.MediaTypes;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which events an endpoint or subscriber wants: by action, by target media type, by repository
 * glob ({@code *} within a path component, {@code **} across components), or a preset. Empty lists
 * mean "any".
 */
public final class EventFilter {
    /** Preset: manifests pushed by tag (what deployments follow). */
    public static final String MANIFEST_PUSHED_BY_TAG = FilterConfig.MANIFEST_PUSHED_BY_TAG;
    public static final Set<String> PRESETS = FilterConfig.PRESETS;
    public static final Set<String> ACTIONS = FilterConfig.ACTIONS;

    private final Set<String> actions;
    private final Set<String> mediaTypes;
    private final List<Pattern> repositories;
    private final String preset;

    public EventFilter(List<String> actions, List<String> mediaTypes, List<String> repositoryGlobs, String preset) {
        this.actions = Set.copyOf(actions);
        this.mediaTypes = Set.copyOf(mediaTypes);
        this.repositories = repositoryGlobs.stream().map(EventFilter::globToPattern).toList();
        this.preset = preset;
    }

    /** Everything. */
    public static EventFilter all() {
        return new EventFilter(List.of(), List.of(), List.of(), null);
    }

    public static EventFilter manifestPushedByTag() {
        return new EventFilter(List.of(), List.of(), List.of(), MANIFEST_PUSHED_BY_TAG);
    }

    /** A repository glob as a regex: {@code *} matches within one path component, {@code **} across them. */
    public static Pattern globToPattern(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    regex.append(".*");
                    i++;
                } else {
                    regex.append("[^/]*");
                }
            } else if (c == '?') {
                regex.append("[^/]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }

    public boolean matches(Event event) {
        Event.Target target = event.target();
        if (!actions.isEmpty() && !actions.contains(event.action())) {
            return false;
        }
        String mediaType = target == null ? null : target.mediaType();
        if (!mediaTypes.isEmpty() && (mediaType == null || !mediaTypes.contains(mediaType))) {
            return false;
        }
        String repository = target == null ? null : target.repository();
        if (!repositories.isEmpty()
                && (repository == null || repositories.stream().noneMatch(p -> p.matcher(repository).matches()))) {
            return false;
        }
        if (MANIFEST_PUSHED_BY_TAG.equals(preset)) {
            return Event.PUSH.equals(event.action()) && mediaType != null && MediaTypes.MANIFESTS.contains(mediaType)
                    && target.tag() != null && !target.tag().isEmpty();
        }
        return true;
    }
}
