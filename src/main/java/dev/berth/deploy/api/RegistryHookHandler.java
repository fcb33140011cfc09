package dev.berth.deploy.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.api.ApiException;
import dev.berth.deploy.ControlPlane;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.trigger.Push;
import dev.berth.digest.Digest;
import dev.berth.manifest.MediaTypes;
import dev.berth.notify.HmacSigner;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /api/hooks/registry}: push events from another registry (CNCF distribution's envelope,
 * as distribution, Harbor's compatible mode or another Berth send them), signed with
 * {@code X-Berth-Signature: sha256=<HMAC-SHA256 of the body>} under {@code deploy.hookSecret}.
 * Manifest pushes by tag become push triggers; other events are counted and ignored.
 */
final class RegistryHookHandler {
    private final ControlPlane controlPlane;
    private final HmacSigner signer;

    RegistryHookHandler(ControlPlane controlPlane, String secret) {
        this.controlPlane = controlPlane;
        this.signer = secret.isEmpty() ? null : new HmacSigner(secret);
    }

    void handle(RoutingContext ctx) {
        if (signer == null) {
            ctx.fail(new ApiException(403, "AccessDeniedException",
                    "inbound registry hooks are off: set deploy.hookSecret to accept signed events", null));
            return;
        }
        Buffer body = ctx.body().buffer();
        byte[] bytes = body == null ? new byte[0] : body.getBytes();
        String given = ctx.request().getHeader(HmacSigner.HEADER);
        if (given == null || !MessageDigest.isEqual(signer.sign(bytes).getBytes(StandardCharsets.US_ASCII),
                given.trim().getBytes(StandardCharsets.US_ASCII))) {
            ctx.fail(new ApiException(401, "InvalidSignatureException", HmacSigner.HEADER
                    + " is missing or is not the HMAC-SHA256 of the body under the shared secret", HmacSigner.HEADER));
            return;
        }
        List<Push> pushes = new ArrayList<>();
        int events;
        try {
            JsonNode root = DeployJson.MAPPER.readTree(bytes);
            JsonNode list = root == null ? null : root.get("events");
            if (list == null || !list.isArray()) {
                throw new ApiException(400, "InvalidParameterException", "the body must be {\"events\":[…]}", "events");
            }
            events = list.size();
            for (int i = 0; i < list.size(); i++) {
                Push p = push(list.get(i), "events[" + i + "]");
                if (p != null) {
                    pushes.add(p);
                }
            }
        } catch (ApiException e) {
            ctx.fail(e);
            return;
        } catch (java.io.IOException e) {
            ctx.fail(new ApiException(400, "InvalidParameterException", "the body is not valid JSON", null));
            return;
        }
        Future<Integer> all = Future.succeededFuture(0);
        for (Push p : pushes) {
            all = all.compose(n -> controlPlane.push(p).map(m -> n + m));
        }
        int total = events;
        all.onSuccess(concerned -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("events", total).put("pushes", pushes.size()).put("services", concerned).encode()))
                .onFailure(ctx::fail);
    }

    /** A manifest push by tag from one event, or null for any other event. */
    private static Push push(JsonNode event, String field) {
        if (event == null || !event.isObject()) {
            throw new ApiException(400, "InvalidParameterException", field + " must be an object", field);
        }
        JsonNode target = event.get("target");
        if (!"push".equals(text(event, "action")) || target == null || !target.isObject()) {
            return null;
        }
        String tag = text(target, "tag");
        String mediaType = text(target, "mediaType");
        if (tag == null || tag.isEmpty() || (mediaType != null && !MediaTypes.MANIFESTS.contains(mediaType))) {
            return null;
        }
        String repository = text(target, "repository");
        if (repository == null || !dev.berth.registry.RepositoryName.isValid(repository)) {
            throw new ApiException(400, "InvalidParameterException", field + ".target.repository is missing or invalid",
                    field + ".target.repository");
        }
        if (!dev.berth.registry.Tag.isValid(tag)) {
            throw new ApiException(400, "InvalidParameterException", field + ".target.tag is invalid", field + ".target.tag");
        }
        String digest = text(target, "digest");
        try {
            Digest.parse(digest);
        } catch (RuntimeException e) {
            throw new ApiException(400, "InvalidParameterException", field + ".target.digest is missing or invalid",
                    field + ".target.digest");
        }
        JsonNode request = event.get("request");
        String host = request == null ? null : text(request, "host");
        // The registry is the host the pushing client used; without one, any registry's image matches.
        return new Push(host, repository, tag, digest, "hook" + (host == null ? "" : " from " + host));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isTextual() ? null : v.asText();
    }
}
