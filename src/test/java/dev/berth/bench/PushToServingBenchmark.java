package dev.berth.bench;

import dev.berth.testing.BusyboxImages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code scripts/bench-push-to-serving}: how long from {@code docker push} returning to every task
 * of a 2-task service serving the new version, on a warm node: berth serve (own JVM) with its
 * embedded agent on the real Docker Engine, a busybox httpd service following its tag. N rounds.
 */
public final class PushToServingBenchmark {
    private PushToServingBenchmark() {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        boolean healthCheck = args.length > 1 && args[1].equals("--health-check");
        Path dir = Files.createTempDirectory("berth-push-bench");
        int port = BenchSupport.freePort();
        Process berth = BenchSupport.serve(port, dir.resolve("storage"), dir.resolve("berth.log"), Map.of());
        String base = "http://127.0.0.1:" + port;
        String image = "127.0.0.1:" + port + "/bench/web-" + UUID.randomUUID().toString().substring(0, 6) + ":live";
        List<Double> seconds = new ArrayList<>();
        try {
            waitUntil(() -> !call(base, "ListContainerInstances", new JsonObject()).getJsonArray("containerInstanceArns").isEmpty(),
                    60, "the embedded agent's node");
            BusyboxImages.buildWebImage(dir, image, "v0");
            BusyboxImages.docker(dir, "push", image);
            JsonObject container = new JsonObject().put("name", "web").put("image", image).put("memory", 32)
                    .put("portMappings", new JsonArray().add(new JsonObject().put("containerPort", 8080))).put("stopTimeout", 2);
            if (healthCheck) {
                container.put("healthCheck", new JsonObject().put("command", new JsonArray().add("CMD-SHELL")
                        .add("wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1")).put("interval", 5).put("timeout", 2));
            }
            call(base, "RegisterTaskDefinition", new JsonObject().put("family", "web")
                    .put("containerDefinitions", new JsonArray().add(container)));
            call(base, "CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 2)
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "digest")));
            waitUntil(() -> servingOnly(base, "v0"), 120, "v0 serving");
            for (int i = 1; i <= rounds; i++) {
                String version = "v" + i;
                BusyboxImages.buildWebImage(dir, image, version);
                BusyboxImages.docker(dir, "push", image);
                long t0 = System.nanoTime();
                waitUntil(() -> servingOnly(base, version), 120, version + " serving");
                double s = (System.nanoTime() - t0) / 1e9;
                seconds.add(s);
                System.out.printf("round %d: %s serving on both tasks %.2f s after docker push returned%n", i, version, s);
            }
        } finally {
            berth.destroy();
            berth.waitFor();
            BusyboxImages.docker(dir, "rmi", "-f", image);
            new ProcessBuilder("sh", "-c", "docker ps -aq --filter label=dev.berth.cluster=default | xargs -r docker rm -f")
                    .start().waitFor();
        }
        List<Double> sorted = new ArrayList<>(seconds);
        Collections.sort(sorted);
        System.out.printf("push to serving (%s health check): median %.2f s, min %.2f s, max %.2f s over %d rounds%n",
                healthCheck ? "with a 5 s" : "no", sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1),
                sorted.size());
        System.exit(0);
    }

    /** The service's 2 wanted tasks are RUNNING and both answer with {@code page}. */
    private static boolean servingOnly(String base, String page) {
        JsonArray ids = call(base, "ListTasks", new JsonObject().put("serviceName", "web")).getJsonArray("taskArns");
        if (ids.isEmpty()) {
            return false;
        }
        int good = 0;
        for (Object o : call(base, "DescribeTasks", new JsonObject().put("tasks", ids)).getJsonArray("tasks")) {
            JsonObject t = (JsonObject) o;
            // The service's tasks: the ones it wants (old ones still stopping are on their way out).
            if (!"RUNNING".equals(t.getString("lastStatus")) || !"RUNNING".equals(t.getString("desiredStatus"))) {
                continue;
            }
            JsonArray b = t.getJsonArray("containers").getJsonObject(0).getJsonArray("networkBindings", new JsonArray());
            String answer = b.isEmpty() ? null : get("http://127.0.0.1:" + b.getJsonObject(0).getInteger("hostPort") + "/");
            if (answer == null) {
                continue;
            }
            if (!answer.strip().equals(page)) {
                return false;
            }
            good++;
        }
        return good == 2;
    }

    private static String get(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static JsonObject call(String base, String action, JsonObject body) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/" + action))
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode(), StandardCharsets.UTF_8)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(action + " -> " + r.statusCode() + " " + r.body());
            }
            return new JsonObject(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition c, int seconds, String what) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
