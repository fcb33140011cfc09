package dev.berth.deploy.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.berth.testing.RegistryClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** Calls {@code POST /api/<Action>} on a test server and checks the answers. */
final class ControlPlaneClient {
    private final RegistryClient http;

    ControlPlaneClient(RegistryClient http) {
        this.http = http;
    }

    HttpResponse<byte[]> raw(String action, String body) {
        return http.post("/api/" + action, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    /** Calls the action and expects 200. */
    JsonObject ok(String action, JsonObject body) {
        return ok(action, body.encode());
    }

    JsonObject ok(String action, String body) {
        HttpResponse<byte[]> r = raw(action, body);
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(200, r.statusCode(), () -> action + " " + body + " -> " + text);
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        return new JsonObject(text);
    }

    /** Calls the action and expects an error with this status, code and field (null: no field). */
    JsonObject error(String action, String body, int status, String code, String field) {
        HttpResponse<byte[]> r = raw(action, body);
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), () -> action + " " + body + " -> " + text);
        JsonObject error = new JsonObject(text).getJsonObject("error");
        assertNotNull(error, text);
        assertEquals(code, error.getString("code"), text);
        assertEquals(field, error.getString("field"), text);
        assertNotNull(error.getString("message"), text);
        return error;
    }

    JsonObject error(String action, JsonObject body, int status, String code, String field) {
        return error(action, body.encode(), status, code, field);
    }

    JsonObject task(String cluster, String id) {
        JsonArray tasks = ok("DescribeTasks", new JsonObject().put("cluster", cluster).put("tasks", new JsonArray().add(id)))
                .getJsonArray("tasks");
        assertEquals(1, tasks.size(), tasks::encode);
        return tasks.getJsonObject(0);
    }

    JsonObject node(String cluster, String id) {
        JsonArray nodes = ok("DescribeContainerInstances", new JsonObject().put("cluster", cluster)
                .put("containerInstances", new JsonArray().add(id))).getJsonArray("containerInstances");
        assertEquals(1, nodes.size(), nodes::encode);
        return nodes.getJsonObject(0);
    }

    String registerNode(String cluster, int cpu, int memory, JsonObject... attributes) {
        JsonArray attrs = new JsonArray();
        for (JsonObject a : attributes) {
            attrs.add(a);
        }
        return ok("RegisterContainerInstance", new JsonObject().put("cluster", cluster).put("hostname", "sim-" + cpu)
                .put("totalResources", new JsonObject().put("cpu", cpu).put("memory", memory)
                        .put("ports", new JsonArray().add("22")))
                .put("attributes", attrs))
                .getJsonObject("containerInstance").getString("containerInstanceArn");
    }

    void report(String cluster, String task, String status) {
        ok("SubmitTaskStateChange", new JsonObject().put("cluster", cluster).put("task", task).put("status", status));
    }
}
