package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers the control-plane commands share: calling an action, printing, reading request files. */
final class ControlPlaneCli {
    private ControlPlaneCli() {
    }

    @FunctionalInterface
    interface Body {
        void run(Calls calls) throws ApiClient.ApiError;
    }

    /** Calls actions with the command's cluster filled in. */
    static final class Calls {
        final ApiClient client;
        final ClusterOptions options;

        Calls(ApiClient client, ClusterOptions options) {
            this.client = client;
            this.options = options;
        }

        JsonObject call(String action, JsonObject body) throws ApiClient.ApiError {
            return client.action(action, body.put("cluster", options.cluster));
        }

        /** Prints the answer as JSON with {@code -o json}; otherwise runs {@code table}. */
        void print(JsonObject answer, Runnable table) {
            if (options.json()) {
                System.out.println(answer.encodePrettily());
            } else {
                table.run();
            }
        }
    }

    static int run(ClusterOptions options, Body body) {
        return WebhookCommand.call(options.client, client -> body.run(new Calls(client, options)));
    }

    /** A JSON request file (like ECS' --cli-input-json), or an empty object when none. */
    static JsonObject file(Path file) throws ApiClient.ApiError {
        if (file == null) {
            return new JsonObject();
        }
        try {
            return new JsonObject(Files.readString(file));
        } catch (IOException e) {
            throw new ApiClient.ApiError("cannot read " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ApiClient.ApiError(file + " is not a JSON object: " + e.getMessage());
        }
    }

    /** One call of an action with a request body. */
    @FunctionalInterface
    interface Action {
        JsonObject call(JsonObject body) throws ApiClient.ApiError;
    }

    /** Every page of a List action: the {@code field} arrays of all pages, following {@code nextToken}. */
    static JsonArray listAll(Action list, JsonObject request, String field) throws ApiClient.ApiError {
        JsonArray all = new JsonArray();
        String token = null;
        do {
            JsonObject page = list.call(request.copy().put("nextToken", token));
            all.addAll(page.getJsonArray(field));
            token = page.getString("nextToken");
        } while (token != null);
        return all;
    }

    /** A Describe action over any number of ids, in requests of 100 (the API's limit): the {@code field} arrays. */
    static JsonArray describeAll(Action describe, String idsField, java.util.List<?> ids, String field)
            throws ApiClient.ApiError {
        JsonArray all = new JsonArray();
        for (int i = 0; i < ids.size(); i += 100) {
            JsonArray chunk = new JsonArray(new java.util.ArrayList<>(ids.subList(i, Math.min(ids.size(), i + 100))));
            all.addAll(describe.call(new JsonObject().put(idsField, chunk)).getJsonArray(field));
        }
        return all;
    }

    static JsonArray strings(java.util.List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }

    static String shortDigest(String image) {
        if (image == null) {
            return null;
        }
        int at = image.indexOf("@sha256:");
        return at < 0 ? image : image.substring(0, Math.min(image.length(), at + 20));
    }
}
