package dev.berth.registry.api;

import dev.berth.digest.Digest;
import dev.berth.manifest.MediaTypes;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.ManifestStore;
import dev.berth.registry.store.Referrer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * {@code GET /v2/<name>/referrers/<digest>[?artifactType=]}: an OCI index of the manifests whose
 * subject is the digest; an empty index (never 404) when there are none.
 */
final class ReferrersHandler {
    private final ManifestStore manifests;

    ReferrersHandler(ManifestStore manifests) {
        this.manifests = manifests;
    }

    void list(RoutingContext ctx) {
        RepositoryName repo = RequestValues.repository(ctx);
        Digest subject = RequestValues.pathDigest(ctx);
        Optional<String> artifactType = Optional.ofNullable(ctx.request().getParam("artifactType"))
                .filter(s -> !s.isEmpty());
        manifests.referrers(repo, subject, artifactType).onSuccess(referrers -> {
            JsonArray entries = new JsonArray();
            for (Referrer r : referrers) {
                JsonObject d = new JsonObject()
                        .put("mediaType", r.mediaType())
                        .put("digest", r.digest().toString())
                        .put("size", r.size());
                if (r.artifactType() != null) {
                    d.put("artifactType", r.artifactType());
                }
                if (!r.annotations().isEmpty()) {
                    d.put("annotations", new JsonObject(new java.util.LinkedHashMap<>(r.annotations())));
                }
                entries.add(d);
            }
            if (artifactType.isPresent()) {
                ctx.response().putHeader(RegistryHeaders.OCI_FILTERS_APPLIED, "artifactType");
            }
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, MediaTypes.OCI_INDEX)
                    .end(new JsonObject()
                            .put("schemaVersion", 2)
                            .put("mediaType", MediaTypes.OCI_INDEX)
                            .put("manifests", entries)
                            .encode());
        }).onFailure(ctx::fail);
    }
}
