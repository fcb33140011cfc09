package dev.berth.registry.api;

import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.Catalog;
import dev.berth.registry.store.Page;
import dev.berth.registry.store.TagStore;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * The paginated listings: {@code GET /v2/<name>/tags/list} and {@code GET /v2/_catalog}, both with
 * {@code n}/{@code last} and an RFC 5988 {@code Link} header when more entries follow.
 */
final class ListingHandler {
    /** Page size when the client gives no {@code n} for the catalog (tags are listed whole). */
    static final int DEFAULT_CATALOG_PAGE = 1000;

    private final TagStore tags;
    private final Catalog catalog;

    ListingHandler(TagStore tags, Catalog catalog) {
        this.tags = tags;
        this.catalog = catalog;
    }

    void tags(RoutingContext ctx) {
        RepositoryName repo = RequestValues.repository(ctx);
        Optional<Integer> n = RequestValues.pageSize(ctx);
        Optional<String> last = Optional.ofNullable(ctx.request().getParam("last"));
        tags.list(repo, n.orElse(Integer.MAX_VALUE), last).onSuccess(page -> {
            if (page.isEmpty()) {
                ctx.fail(new RegistryException(ErrorCode.NAME_UNKNOWN, Map.of("name", repo.value())));
                return;
            }
            JsonArray list = new JsonArray();
            page.get().items().forEach(t -> list.add(t.value()));
            respond(ctx, "/v2/" + repo + "/tags/list", page.get(), n, Tag::value,
                    new JsonObject().put("name", repo.value()).put("tags", list));
        }).onFailure(ctx::fail);
    }

    void catalog(RoutingContext ctx) {
        Optional<Integer> n = RequestValues.pageSize(ctx);
        Optional<String> last = Optional.ofNullable(ctx.request().getParam("last"));
        int size = n.orElse(DEFAULT_CATALOG_PAGE);
        catalog.list(size, last).onSuccess(page -> {
            JsonArray list = new JsonArray();
            page.items().forEach(r -> list.add(r.value()));
            respond(ctx, "/v2/_catalog", page, Optional.of(size), RepositoryName::value,
                    new JsonObject().put("repositories", list));
        }).onFailure(ctx::fail);
    }

    private static <T> void respond(RoutingContext ctx, String path, Page<T> page, Optional<Integer> n,
                                    java.util.function.Function<T, String> name, JsonObject body) {
        if (page.hasMore() && n.isPresent() && n.get() > 0 && !page.items().isEmpty()) {
            String lastItem = name.apply(page.items().get(page.items().size() - 1));
            ctx.response().putHeader(RegistryHeaders.LINK, "<" + path + "?n=" + n.get() + "&last="
                    + URLEncoder.encode(lastItem, StandardCharsets.UTF_8) + ">; rel=\"next\"");
        }
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
    }
}
