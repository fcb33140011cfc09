package dev.berth.deploy.model;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Berth's push trigger for a service: which container follows which repository, and which pushed
 * tags it takes. Policies: {@code digest} follows one tag ({@code tag}) to each new digest;
 * {@code semver} takes the highest version in {@code range}, upgrades only (prereleases only with
 * {@code prerelease: true}); {@code glob} and {@code regexp} take the newest tag matching
 * {@code pattern}. Pushes within {@code debounceSeconds} collapse into one deployment.
 */
public record AutoDeploy(String container, String repository, String policy, String tag, String range, String pattern,
                         Boolean prerelease, Integer debounceSeconds) {

    public AutoDeploy normalize(String field, TaskDefinition td) {
        String c = Check.required(field + ".container", container);
        ContainerDefinition target = td.containerDefinitions().stream().filter(d -> d.name().equals(c)).findFirst()
                .orElseThrow(() -> new FieldException(field + ".container", "task definition " + td.key()
                        + " has no container " + Check.shorten(c)));
        ImageReference image = ImageReference.parse(target.image());
        String repo = repository == null ? image.repository() : repository;
        if (!dev.berth.registry.RepositoryName.isValid(repo)) {
            throw new FieldException(field + ".repository", field + ".repository is not a valid repository name");
        }
        String p = Check.required(field + ".policy", policy);
        String t = tag;
        switch (p) {
            case "digest" -> {
                if (t == null) {
                    t = image.tag() == null ? "latest" : image.tag();
                }
                if (!dev.berth.registry.Tag.isValid(t)) {
                    throw new FieldException(field + ".tag", field + ".tag is not a valid tag");
                }
                forbid(field, "range", range, p);
                forbid(field, "pattern", pattern, p);
            }
            case "semver" -> {
                String r = Check.required(field + ".range", range);
                try {
                    SemverRange.parse(r);
                } catch (IllegalArgumentException e) {
                    throw new FieldException(field + ".range", field + ".range: " + e.getMessage());
                }
                forbid(field, "tag", tag, p);
                forbid(field, "pattern", pattern, p);
            }
            case "glob", "regexp" -> {
                String pat = Check.required(field + ".pattern", pattern);
                if (pat.length() > 256) {
                    throw new FieldException(field + ".pattern", field + ".pattern must be at most 256 characters");
                }
                if (p.equals("regexp")) {
                    try {
                        Pattern.compile(pat);
                    } catch (PatternSyntaxException e) {
                        throw new FieldException(field + ".pattern", field + ".pattern is not a valid regular expression: "
                                + e.getDescription());
                    }
                } else if (pat.isEmpty() || pat.length() > 128) {
                    throw new FieldException(field + ".pattern", field + ".pattern must be 1-128 characters");
                }
                forbid(field, "tag", tag, p);
                forbid(field, "range", range, p);
            }
            default -> throw new FieldException(field + ".policy", field + ".policy must be digest, semver, glob or regexp");
        }
        int debounce = Check.range(field + ".debounceSeconds", debounceSeconds, 0, 3600, 0);
        if (prerelease != null && !p.equals("semver")) {
            throw new FieldException(field + ".prerelease", field + ".prerelease only applies to the semver policy");
        }
        return new AutoDeploy(c, repo, p, t, range, pattern, p.equals("semver") ? Boolean.valueOf(prerelease != null && prerelease)
                : null, debounce);
    }

    private static void forbid(String field, String name, String value, String policy) {
        if (value != null) {
            throw new FieldException(field + "." + name, field + "." + name + " does not apply to the " + policy + " policy");
        }
    }
}
