package dev.berth.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.agent.Agent;
import dev.berth.auth.Pem;
import dev.berth.auth.Users;
import dev.berth.testing.BusyboxImages;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole loop with security on, on the real Docker Engine: a server with HTTPS from its own
 * authority and token authentication; its embedded agent joins with a client certificate; an admin
 * pushes a private image (no anonymous pulls) and runs it; the Engine, which has no credentials of
 * its own for the registry, pulls it with the pull credential the node was given.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DeployWithAuthTest {
    private static final String PASSWORD = "root-password-1";

    @TempDir
    Path tmp;

    private static String basic() {
        return "Basic " + Base64.getEncoder().encodeToString(("root:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    }

    private static JsonObject admin(HttpClient client, String base, String action, JsonObject body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/api/" + action))
                .header("Content-Type", "application/json").header("Authorization", basic())
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    private static ExternalCommand.Result docker(Path config, Path scratch, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "--config", config.toString()));
        command.addAll(List.of(args));
        Path input = null;
        if (stdin != null) {
            input = Files.writeString(Files.createTempFile(scratch, "stdin", ".txt"), stdin);
        }
        return input == null ? ExternalCommand.run(command, Map.of("DOCKER_BUILDKIT", "0"), scratch, Duration.ofMinutes(3))
                : ExternalCommand.run(command, Map.of("DOCKER_BUILDKIT", "0"), scratch, Duration.ofMinutes(3), input);
    }

    @Test
    void theEmbeddedAgentRunsAPrivateImageWithItsPullCredential() throws Exception {
        RequiredTools.docker();
        Path storage = tmp.resolve("storage");
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        users.setPassword("root", PASSWORD);
        users.setGroups("root", Set.of("admin"));
        List<String> images = new ArrayList<>();
        List<String> nodes = new ArrayList<>();
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true", "auth.mode", "token",
                "agent.embedded", "true"))) {
            Agent embedded = berth.server().embeddedAgent();
            assertNotNull(embedded, "no embedded agent (is the Docker Engine up?)");
            nodes.add(embedded.nodeId());
            embedded.firstSnapshot().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertTrue(Files.exists(storage.resolve("agent/agent.crt")), "the embedded agent has a client certificate");

            String base = "https://127.0.0.1:" + berth.port();
            HttpClient client = HttpClient.newBuilder().sslContext(Pem.trusting(storage.resolve("pki/ca.crt")))
                    .connectTimeout(Duration.ofSeconds(10)).build();
            String image = berth.hostPort() + "/private/web-" + UUID.randomUUID().toString().substring(0, 8) + ":v1";
            images.add(image);
            BusyboxImages.buildWebImage(tmp, image, "secret page");
            // The admin pushes with a login of its own (Docker treats loopback registries as insecure:
            // HTTPS without verifying the certificate).
            Path config = Files.createDirectories(tmp.resolve("docker-config"));
            ExternalCommand.Result login = docker(config, tmp, PASSWORD, "login", "-u", "root", "--password-stdin",
                    berth.hostPort());
            assertEquals(0, login.exitCode(), login.toString());
            ExternalCommand.Result push = docker(config, tmp, null, "push", image);
            assertEquals(0, push.exitCode(), push.toString());
            // Gone from the Engine: the agent's start must pull it, and the Engine has no login of its own.
            BusyboxImages.docker(tmp, "rmi", "-f", image);
            HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(URI.create(base + "/v2/"
                    + image.substring(image.indexOf('/') + 1).replace(":v1", "/manifests/v1"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), "a private image: " + anonymous.body());

            admin(client, base, "RegisterTaskDefinition", new JsonObject().put("family", "web").put("containerDefinitions",
                    new JsonArray().add(new JsonObject().put("name", "web").put("image", image).put("memory", 32)
                            .put("stopTimeout", 2))));
            String task = admin(client, base, "RunTask", new JsonObject().put("taskDefinition", "web"))
                    .getJsonArray("tasks").getJsonObject(0).getString("taskArn");
            JsonObject described = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < deadline) {
                described = admin(client, base, "DescribeTasks", new JsonObject().put("tasks", new JsonArray().add(task)))
                        .getJsonArray("tasks").getJsonObject(0);
                if ("RUNNING".equals(described.getString("lastStatus")) || "STOPPED".equals(described.getString("lastStatus"))) {
                    break;
                }
                Thread.sleep(250);
            }
            assertNotNull(described);
            assertEquals("RUNNING", described.getString("lastStatus"), described.encodePrettily());
            String containers = BusyboxImages.docker(tmp, "ps", "-q", "--filter", "label=dev.berth.task=" + task).stdout();
            assertNotEquals("", containers.trim(), "a container runs for the task");
            admin(client, base, "StopTask", new JsonObject().put("task", task).put("reason", "test over"));
        } finally {
            BusyboxImages.removeNodesAndImages(nodes, images);
        }
    }
}
