package dev.berth.deploy.api;

import dev.berth.deploy.ControlPlane;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/** Routes {@code POST /api/<Action>} to the control plane's actions. */
public final class ControlPlaneRoutes {
    /** Requests are small documents; a task definition with ten containers is far below this. */
    public static final long MAX_BODY_BYTES = 1024 * 1024;

    private ControlPlaneRoutes() {
    }

    public static void mount(Router router, ControlPlane controlPlane, String hookSecret) {
        RegistryHookHandler hooks = new RegistryHookHandler(controlPlane, hookSecret);
        router.route(HttpMethod.POST, "/api/hooks/registry")
                .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
                .handler(hooks::handle);
        // Action names are capitalized (CreateService); lower-case paths stay with the other /api/ routes.
        router.routeWithRegex(HttpMethod.POST, "/api/([A-Z][A-Za-z]{1,63})")
                .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
                .handler(ctx -> call(ctx, controlPlane));
    }

    private static void call(RoutingContext ctx, ControlPlane controlPlane) {
        String name = ctx.pathParam("param0");
        ControlPlane.Action action = controlPlane.action(name);
        if (action == null) {
            ctx.fail(new dev.berth.api.ApiException(404, "UnknownOperationException", "no action " + name, null));
            return;
        }
        Buffer body = ctx.body().buffer();
        action.call(body == null ? "" : body.toString()).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            ctx.response().putHeader("Content-Type", "application/json").end(ar.result().toString());
        });
    }
}
