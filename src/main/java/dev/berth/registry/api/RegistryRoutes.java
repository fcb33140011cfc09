package dev.berth.registry.api;

import dev.berth.config.BerthConfig.RegistryConfig;
import dev.berth.mirror.Mirror;
import dev.berth.notify.NotificationService;
import dev.berth.registry.store.RegistryStore;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

/**
 * The registry's route table. Repository names contain {@code /}, so routes are regexes whose
 * {@code name} group takes everything up to the resource part; handlers validate the name.
 */
public final class RegistryRoutes {
    private static final String NAME = "/v2/(?<name>.+)";
    private static final String BLOB = "/blobs/(?<digest>(?!uploads$)[^/]+)";

    private RegistryRoutes() {
    }

    /**
     * The registry's routes on {@code router}, which the caller may share with other route tables
     * (they must not claim {@code /v2/}), with the pull-through {@code mirror} in front of manifest
     * and blob reads (null: none).
     */
    public static void mount(Router router, RegistryStore store, RegistryConfig config, NotificationService notifications,
                             Mirror mirror) {
        RegistryFailureHandler failures = new RegistryFailureHandler();
        // Pulls of mirrored content tell the mirror's cache when it was last used.
        RegistryEvents events = new RegistryEvents(notifications.outbox(), notifications.source(),
                mirror == null ? (repo, digest) -> { } : mirror::pulled);
        BlobHandler blobs = new BlobHandler(store.blobs(), config.deleteEnabled(), events);
        BlobUploadHandler uploads = new BlobUploadHandler(store.uploads(), store.blobs(), events);
        ManifestHandler manifests = new ManifestHandler(store.manifests(), store.tags(),
                config.maxManifestSize().bytes(), config.deleteEnabled(), events);
        ListingHandler listings = new ListingHandler(store.tags(), store.catalog());
        ReferrersHandler referrers = new ReferrersHandler(store.manifests());

        router.route("/v2/*").handler(ctx -> {
            ctx.response().putHeader(RegistryHeaders.API_VERSION, RegistryHeaders.API_VERSION_VALUE);
            ctx.next();
        });

        router.routeWithRegex(HttpMethod.GET, "/v2/?").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json").end("{}"));
        router.routeWithRegex(HttpMethod.HEAD, "/v2/?").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json").putHeader("Content-Length", "2").end());
        router.routeWithRegex(HttpMethod.GET, "/v2/_catalog").handler(listings::catalog);

        router.routeWithRegex(HttpMethod.GET, NAME + "/tags/list").handler(listings::tags);

        if (mirror != null) {
            MirrorHandler mirrored = new MirrorHandler(mirror, store, events);
            for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD}) {
                router.routeWithRegex(m, NAME + "/manifests/(?<reference>[^/]+)").handler(mirrored::manifest);
                router.routeWithRegex(m, NAME + BLOB).handler(mirrored::blob);
            }
            for (HttpMethod m : new HttpMethod[] {HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE}) {
                router.routeWithRegex(m, NAME + "/(manifests|blobs)/.*").handler(mirrored::write);
            }
        }
        router.routeWithRegex(HttpMethod.GET, NAME + "/manifests/(?<reference>[^/]+)").handler(manifests::get);
        router.routeWithRegex(HttpMethod.HEAD, NAME + "/manifests/(?<reference>[^/]+)").handler(manifests::get);
        router.routeWithRegex(HttpMethod.PUT, NAME + "/manifests/(?<reference>[^/]+)").handler(manifests::put);
        router.routeWithRegex(HttpMethod.DELETE, NAME + "/manifests/(?<reference>[^/]+)").handler(manifests::delete);

        router.routeWithRegex(HttpMethod.POST, NAME + "/blobs/uploads/?").handler(uploads::start);
        router.routeWithRegex(HttpMethod.GET, NAME + "/blobs/uploads/(?<uuid>[^/]+)").handler(uploads::status);
        router.routeWithRegex(HttpMethod.PATCH, NAME + "/blobs/uploads/(?<uuid>[^/]+)").handler(uploads::patch);
        router.routeWithRegex(HttpMethod.PUT, NAME + "/blobs/uploads/(?<uuid>[^/]+)").handler(uploads::complete);
        router.routeWithRegex(HttpMethod.DELETE, NAME + "/blobs/uploads/(?<uuid>[^/]+)").handler(uploads::cancel);

        // "uploads" is the upload collection, never a digest.
        router.routeWithRegex(HttpMethod.GET, NAME + BLOB).handler(blobs::get);
        router.routeWithRegex(HttpMethod.HEAD, NAME + BLOB).handler(blobs::get);
        router.routeWithRegex(HttpMethod.DELETE, NAME + BLOB).handler(blobs::delete);

        router.routeWithRegex(HttpMethod.GET, NAME + "/referrers/(?<digest>[^/]+)").handler(referrers::list);

        router.route("/v2/*").failureHandler(failures);
    }

    /** The answer for requests no route took: the registry's error format under /v2/, JSON elsewhere. */
    public static io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> unmatched() {
        return new RegistryFailureHandler();
    }
}
