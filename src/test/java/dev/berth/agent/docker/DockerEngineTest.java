package dev.berth.agent.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.RegisterTaskDefinitionRequest;
import dev.berth.deploy.model.TaskDefinition;
import dev.berth.testing.BusyboxImages;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Engine client against the real Docker Engine: pull from Berth by digest, then a container
 * made from a task definition (dynamic port, health check, labels, memory, env) that serves its
 * page, turns healthy, logs, stops with SIGTERM and reports its exit code.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DockerEngineTest {
    private static final Pattern DIGEST = Pattern.compile("digest: (sha256:[0-9a-f]{64})");

    @TempDir
    Path tmp;
    private Vertx vertx;
    private DockerEngine docker;
    private final List<String> containers = new ArrayList<>();
    private final List<String> images = new ArrayList<>();

    @BeforeEach
    void open() {
        RequiredTools.docker();
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        docker = new DockerEngine(vertx, DockerEngine.DEFAULT_SOCKET);
    }

    @AfterEach
    void close() throws Exception {
        if (docker == null) {
            return; // skipped: no Docker Engine
        }
        for (String id : containers) {
            docker.remove(id, true).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        BusyboxImages.removeNodesAndImages(List.of(), images);
        docker.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
    }

    @Test
    void aTaskDefinitionContainerRunsServesTurnsHealthyAndStops() throws Exception {
        JsonObject info = await(docker.info());
        assertTrue(info.getInteger("NCPU") >= 1, info.encode());
        assertTrue(info.getLong("MemTotal") > 0);

        String run = UUID.randomUUID().toString().substring(0, 8);
        try (TestRegistry registry = TestRegistry.start(tmp.resolve("storage"))) {
            String image = registry.hostPort() + "/agent/web:" + run;
            images.add(image);
            BusyboxImages.buildWebImage(tmp, image, "hello from " + run + "\n");
            String push = BusyboxImages.docker(tmp, "push", image).stdout();
            Matcher m = DIGEST.matcher(push);
            assertTrue(m.find(), push);
            String byDigest = registry.hostPort() + "/agent/web@" + m.group(1);
            images.add(byDigest);
            BusyboxImages.docker(tmp, "rmi", image);
            assertFalse(await(docker.imagePresent(byDigest)));

            await(docker.pull(byDigest, null));
            assertTrue(await(docker.imagePresent(byDigest)), "pulled from Berth by digest");
            DockerException missing = (DockerException) assertThrows(ExecutionException.class,
                    () -> await(docker.pull(registry.hostPort() + "/agent/nope:1", null))).getCause();
            assertTrue(missing.getMessage().contains("not found") || missing.getMessage().contains("unknown"),
                    missing.getMessage());

            TaskDefinition td = TaskDefinition.register(DeployJson.MAPPER.readValue("""
                    {"family": "web", "containerDefinitions": [{
                      "name": "web", "image": "x", "memory": 32, "cpu": 256,
                      "command": ["sh", "-c", "echo started $GREETING; trap 'echo bye; exit 3' TERM; httpd -p 8080 -h /www; while true; do sleep 1; done"],
                      "environment": [{"name": "GREETING", "value": "hi"}],
                      "portMappings": [{"containerPort": 8080}],
                      "healthCheck": {"command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                                      "interval": 5, "timeout": 2, "retries": 2},
                      "stopTimeout": 5}]}""", RegisterTaskDefinitionRequest.class), 1, Instant.now());
            String task = "t" + run;
            JsonObject config = ContainerConfig.of(td, td.containerDefinitions().get(0), byDigest, task,
                    Map.of(ContainerConfig.CLUSTER_LABEL, "default"));
            String id = await(docker.create(ContainerConfig.containerName(task, "web"), config));
            containers.add(id);
            await(docker.start(id));

            JsonObject inspected = await(docker.inspect(id));
            assertEquals(32L * 1024 * 1024, inspected.getJsonObject("HostConfig").getLong("Memory"));
            assertEquals(256, inspected.getJsonObject("HostConfig").getInteger("CpuShares"));
            assertEquals(task, inspected.getJsonObject("Config").getJsonObject("Labels").getString(ContainerConfig.TASK_LABEL));
            String hostPort = inspected.getJsonObject("NetworkSettings").getJsonObject("Ports").getJsonArray("8080/tcp")
                    .getJsonObject(0).getString("HostPort");
            assertNotEquals("", hostPort, "the Engine picked a host port");

            HttpClient http = HttpClient.newHttpClient();
            String page = null;
            String health = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && !("healthy".equals(health) && page != null)) {
                try {
                    page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hostPort + "/")).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                } catch (java.io.IOException e) {
                    page = null;
                }
                health = await(docker.inspect(id)).getJsonObject("State").getJsonObject("Health").getString("Status");
                Thread.sleep(250);
            }
            assertEquals("healthy", health);
            assertEquals("hello from " + run + "\n", page);

            JsonArray listed = await(docker.list(ContainerConfig.TASK_LABEL + "=" + task));
            assertEquals(1, listed.size());
            assertEquals(id, listed.getJsonObject(0).getString("Id"));

            await(docker.stop(id, 5));
            JsonObject state = await(docker.inspect(id)).getJsonObject("State");
            assertEquals("exited", state.getString("Status"));
            assertEquals(3, state.getInteger("ExitCode"), "SIGTERM reached the container's trap");
            StringBuilder logs = new StringBuilder();
            await(await(docker.logs(id, false, -1, (Buffer b) -> logs.append(b.toString(StandardCharsets.UTF_8)))).ended());
            assertTrue(logs.toString().contains("started hi"), logs.toString());
            assertTrue(logs.toString().contains("bye"), logs.toString());

            await(docker.remove(id, false));
            containers.remove(id);
            DockerException gone = (DockerException) assertThrows(ExecutionException.class,
                    () -> await(docker.inspect(id))).getCause();
            assertTrue(gone.notFound());
        }
    }

    @Test
    void anEngineThatIsNotThereIsAClearError() throws Exception {
        try (DockerEngine none = new DockerEngine(vertx, Files.createTempFile(tmp, "no", ".sock").toString())) {
            DockerException e = (DockerException) assertThrows(ExecutionException.class, () -> await(none.ping())).getCause();
            assertEquals(0, e.status());
            assertTrue(e.getMessage().startsWith("cannot reach the Docker Engine at"), e.getMessage());
        }
    }
}
