package dev.berth.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.ExternalCommand.Result;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Docker client against Berth: build a FROM-scratch busybox image, push it, remove it
 * locally, pull it back by tag and by digest, and run it.
 */
class DockerPushPullTest {
    private static final long COMMAND_TIMEOUT_SECONDS = 180;
    private static final Pattern PUSHED_DIGEST = Pattern.compile("v1: digest: (sha256:[0-9a-f]{64}) size: \\d+");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private TestRegistry registry;
    /** Every image reference and id this test created, removed after it. */
    private final Set<String> created = new LinkedHashSet<>();

    @AfterEach
    void cleanUp() {
        for (String ref : created) {
            try {
                run(List.of("docker", "rmi", "-f", ref), Map.of());
            } catch (Exception | AssertionError e) {
                // cleanup is best effort
            }
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void pushPullByTagAndDigestAndRun() throws Exception {
        RequiredTools.docker();
        Path busybox = RequiredTools.staticBusybox();
        registry = TestRegistry.start(tmp.resolve("storage"));

        String runId = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String repo = "e2e/busybox-" + runId;
        String image = registry.hostPort() + "/" + repo + ":v1";
        String localName = "berth-e2e-build-" + runId + ":latest";

        // Build. The run-id layer comes first so that every layer's chain id is new to the daemon:
        // the pulls below must download all layers rather than find them already present.
        Path context = Files.createDirectories(tmp.resolve("context"));
        Files.copy(busybox, context.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.writeString(context.resolve("run-id"), runId + "\n");
        Files.writeString(context.resolve("Dockerfile"), String.join("\n",
                "FROM scratch",
                "COPY run-id /etc/berth-run-id",
                "COPY busybox /bin/busybox",
                "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]",
                "RUN echo berth-e2e > /hello",
                "CMD [\"/bin/sh\"]",
                ""));
        created.add(localName);
        created.add(image);
        docker("build", "--pull=false", "-t", localName, context.toString());
        String imageId = docker("image", "inspect", "--format", "{{.Id}}", localName).stdout().trim();
        created.add(imageId);
        docker("tag", localName, image);

        // Push, and learn the digest Docker computed.
        Result push = docker("push", image);
        Matcher m = PUSHED_DIGEST.matcher(push.stdout());
        assertTrue(m.find(), "no digest in the push output; " + push);
        String digest = m.group(1);
        String byDigest = registry.hostPort() + "/" + repo + "@" + digest;
        created.add(byDigest);

        // The registry agrees: the tag is listed and resolves to the pushed digest.
        RegistryClient client = registry.client();
        HttpResponse<byte[]> tags = client.get("/v2/" + repo + "/tags/list");
        RegistryClient.expect(tags, 200);
        JsonNode tagList = JSON.readTree(tags.body());
        assertEquals(repo, tagList.path("name").asText(), "tags/list name: " + body(tags));
        List<String> tagNames = new ArrayList<>();
        tagList.path("tags").forEach(t -> tagNames.add(t.asText()));
        assertTrue(tagNames.contains("v1"), "tags/list should contain v1: " + body(tags));
        HttpResponse<byte[]> head = client.head("/v2/" + repo + "/manifests/v1",
                "Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json");
        RegistryClient.expect(head, 200);
        assertEquals(digest, head.headers().firstValue("Docker-Content-Digest").orElse(null),
                "Docker-Content-Digest of HEAD /v2/" + repo + "/manifests/v1");

        // Remove every local tag of the image, so the pull has to download it.
        removeLocal(imageId);

        Result pullByTag = docker("pull", image);
        assertDownloaded(pullByTag);
        assertTrue(pullByTag.stdout().contains(digest), "pull by tag should report digest " + digest + "; " + pullByTag);
        assertEquals(imageId, docker("image", "inspect", "--format", "{{.Id}}", image).stdout().trim(),
                "the pulled image should have the id of the built one");
        assertHello(image);

        removeLocal(imageId);

        Result pullByDigest = docker("pull", byDigest);
        assertDownloaded(pullByDigest);
        assertEquals(imageId, docker("image", "inspect", "--format", "{{.Id}}", byDigest).stdout().trim(),
                "the image pulled by digest should have the id of the built one");
        assertHello(byDigest);
    }

    private void assertHello(String ref) throws IOException, InterruptedException {
        Result run = docker("run", "--rm", "--network", "none", ref, "cat", "/hello");
        assertEquals("berth-e2e", run.stdout().trim(), "output of `cat /hello` in " + ref + "; " + run);
    }

    /** The pull fetched the image from the registry instead of finding it (or any layer) locally. */
    private static void assertDownloaded(Result pull) {
        assertTrue(pull.stdout().contains("Downloaded newer image"), "the pull should have downloaded the image; " + pull);
        assertTrue(pull.stdout().contains("Pull complete"), "the pull should have extracted layers; " + pull);
        assertFalse(pull.stdout().contains("Already exists"), "no layer should have been present locally; " + pull);
    }

    /** Removes the image and all its tags; afterwards the daemon must not know it. */
    private void removeLocal(String imageId) throws IOException, InterruptedException {
        docker("rmi", "-f", imageId);
        Result inspect = run(List.of("docker", "image", "inspect", imageId), Map.of());
        assertNotEquals(0, inspect.exitCode(), "image " + imageId + " still present after rmi; " + inspect);
    }

    private static String body(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    // ---- running docker ----

    /** Runs docker (legacy builder) and fails the test unless it exits 0. */
    private Result docker(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        Result r = run(command, Map.of("DOCKER_BUILDKIT", "0"));
        if (r.exitCode() != 0) {
            fail(r.toString() + "\n--- berth storage ---\n" + storageListing());
        }
        return r;
    }

    private String storageListing() {
        try (var paths = Files.walk(registry.storage())) {
            return String.join("\n", paths.map(p -> registry.storage().relativize(p).toString()).toList());
        } catch (IOException | RuntimeException e) {
            return "(unavailable: " + e + ")";
        }
    }

    private Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        return ExternalCommand.run(command, env, tmp, Duration.ofSeconds(COMMAND_TIMEOUT_SECONDS));
    }
}
