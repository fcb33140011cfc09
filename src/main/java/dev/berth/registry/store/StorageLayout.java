package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import java.util.Optional;

/**
 * The storage tree, drawn once. Every key the registry reads or writes is built here from typed
 * values (which validate their own grammar), never by concatenation elsewhere.
 *
 * <pre>
 * registry/blobs/&lt;alg&gt;/&lt;2hex&gt;/&lt;hex&gt;/data                                  content-addressed bytes
 * registry/repositories/&lt;name&gt;/_layers/&lt;alg&gt;/&lt;hex&gt;/link                    blobs the repository may serve
 * registry/repositories/&lt;name&gt;/_manifests/revisions/&lt;alg&gt;/&lt;hex&gt;/link        manifests of the repository
 * registry/repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;/current/link            digest the tag points at
 * registry/repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;/index/&lt;alg&gt;/&lt;hex&gt;/link every digest it pointed at
 * registry/repositories/&lt;name&gt;/_referrers/&lt;alg&gt;/&lt;hex&gt;/&lt;alg&gt;/&lt;hex&gt;/link    subject → referrer
 * registry/repositories/&lt;name&gt;/_uploads/&lt;id&gt;/{data,startedat}              upload sessions
 * </pre>
 *
 * Link files hold the digest they name, as text.
 */
public final class StorageLayout {
    public static final String ROOT = "registry";
    public static final String BLOBS = ROOT + "/blobs";
    public static final String REPOSITORIES = ROOT + "/repositories";
    /** Directory names inside a repository; repository name components can never look like these. */
    public static final String LAYERS_DIR = "_layers";
    public static final String MANIFESTS_DIR = "_manifests";
    public static final String REFERRERS_DIR = "_referrers";
    public static final String UPLOADS_DIR = "_uploads";

    private StorageLayout() {
    }

    /**
     * The repository that a key of the form {@code registry/repositories/<name>/_<dir>[/…]} belongs
     * to; empty for keys outside a repository's own directories.
     */
    public static Optional<RepositoryName> repositoryOf(String key) {
        String prefix = REPOSITORIES + "/";
        if (!key.startsWith(prefix)) {
            return Optional.empty();
        }
        String rest = key.substring(prefix.length());
        int marker = rest.indexOf("/_");
        if (marker <= 0) {
            return Optional.empty();
        }
        String name = rest.substring(0, marker);
        return RepositoryName.isValid(name) ? Optional.of(RepositoryName.of(name)) : Optional.empty();
    }

    private static String digestPath(Digest d) {
        return d.algorithm().id() + "/" + d.hex();
    }

    /** The directory of a blob's bytes. */
    public static String blob(Digest d) {
        return BLOBS + "/" + d.algorithm().id() + "/" + d.hex().substring(0, 2) + "/" + d.hex();
    }

    public static String blobData(Digest d) {
        return blob(d) + "/data";
    }

    public static String repository(RepositoryName repo) {
        return REPOSITORIES + "/" + repo.value();
    }

    public static String layer(RepositoryName repo, Digest d) {
        return repository(repo) + "/" + LAYERS_DIR + "/" + digestPath(d);
    }

    public static String layerLink(RepositoryName repo, Digest d) {
        return layer(repo, d) + "/link";
    }

    public static String revision(RepositoryName repo, Digest d) {
        return revisions(repo) + "/" + digestPath(d);
    }

    public static String revisionLink(RepositoryName repo, Digest d) {
        return revision(repo, d) + "/link";
    }

    public static String revisions(RepositoryName repo) {
        return repository(repo) + "/" + MANIFESTS_DIR + "/revisions";
    }

    public static String tags(RepositoryName repo) {
        return repository(repo) + "/" + MANIFESTS_DIR + "/tags";
    }

    public static String tag(RepositoryName repo, Tag tag) {
        return tags(repo) + "/" + tag.value();
    }

    public static String tagCurrentLink(RepositoryName repo, Tag tag) {
        return tag(repo, tag) + "/current/link";
    }

    public static String tagIndexLink(RepositoryName repo, Tag tag, Digest d) {
        return tag(repo, tag) + "/index/" + digestPath(d) + "/link";
    }

    public static String referrers(RepositoryName repo, Digest subject) {
        return repository(repo) + "/" + REFERRERS_DIR + "/" + digestPath(subject);
    }

    public static String referrer(RepositoryName repo, Digest subject, Digest referrer) {
        return referrers(repo, subject) + "/" + digestPath(referrer);
    }

    public static String referrerLink(RepositoryName repo, Digest subject, Digest referrer) {
        return referrer(repo, subject, referrer) + "/link";
    }

    public static String uploads(RepositoryName repo) {
        return repository(repo) + "/" + UPLOADS_DIR;
    }

    public static String upload(RepositoryName repo, UploadId id) {
        return uploads(repo) + "/" + id.value();
    }

    public static String uploadData(RepositoryName repo, UploadId id) {
        return upload(repo, id) + "/data";
    }

    public static String uploadStartedAt(RepositoryName repo, UploadId id) {
        return upload(repo, id) + "/startedat";
    }
}
