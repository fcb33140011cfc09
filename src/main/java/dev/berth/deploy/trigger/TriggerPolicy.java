package dev.berth.deploy.trigger;

import dev.berth.deploy.model.AutoDeploy;
import dev.berth.deploy.model.ImageReference;
import dev.berth.deploy.model.Semver;
import dev.berth.deploy.model.SemverRange;
import dev.berth.notify.EventFilter;
import java.util.Collection;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Whether a push should deploy to a service, as a pure function of the service's
 * {@link AutoDeploy}, the image its container runs now, the push, and the digests rolled back.
 *
 * <ul>
 *   <li>{@code digest}: the followed tag moved to a new digest;</li>
 *   <li>{@code semver}: the tag is a version in the range (prereleases only when asked) and higher
 *       than the version running now: upgrades only;</li>
 *   <li>{@code glob}, {@code regexp}: the tag matches (the whole tag); the newest push wins.</li>
 * </ul>
 *
 * Never: a digest a rollback took away, exactly the image already running, or a push to another
 * registry than the one the container's image comes from (a push to Berth concerns images named
 * with one of Berth's own names only).
 */
public final class TriggerPolicy {
    private TriggerPolicy() {
    }

    /** The image to deploy ({@code registry/repo:tag@digest}, registry as the container names it), or null. */
    public static String decide(AutoDeploy auto, String currentImage, Push push, Collection<String> rolledBack,
                                Predicate<String> thisRegistry) {
        if (!auto.repository().equals(push.repository()) || rolledBack.contains(push.digest())) {
            return null;
        }
        ImageReference current = ImageReference.parse(currentImage);
        if (Push.THIS_REGISTRY.equals(push.registry())) {
            if (current.registry() == null || !thisRegistry.test(current.registry())) {
                return null;
            }
        } else if (push.registry() != null && !push.registry().equalsIgnoreCase(current.registry())) {
            return null;
        }
        boolean wanted = switch (auto.policy()) {
            case "digest" -> auto.tag().equals(push.tag());
            case "semver" -> {
                Semver pushed = Semver.parseTag(push.tag());
                if (pushed == null || !SemverRange.parse(auto.range()).matches(pushed, Boolean.TRUE.equals(auto.prerelease()))) {
                    yield false;
                }
                Semver running = current.tag() == null ? null : Semver.parseTag(current.tag());
                yield running == null || pushed.compareTo(running) > 0;
            }
            case "glob" -> globMatches(auto.pattern(), push.tag());
            case "regexp" -> Pattern.compile(auto.pattern()).matcher(push.tag()).matches();
            default -> false;
        };
        if (!wanted) {
            return null;
        }
        String image = new ImageReference(current.registry(), push.repository(), push.tag(), null).toString()
                + "@" + push.digest();
        return image.equals(currentImage) ? null : image;
    }

    /** Tag globs: {@code *} and {@code ?} (a tag has no {@code /}, so the repository glob rules fit). */
    static boolean globMatches(String glob, String tag) {
        return EventFilter.globToPattern(glob).matcher(tag).matches();
    }
}
