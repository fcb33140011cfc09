package dev.berth.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Images, manifests and error checks shared by registry tests. */
public final class Fixtures {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    private static final Random RANDOM = new Random(42);

    private Fixtures() {
    }

    /** An image pushed to a repository: its manifest and what it references. */
    public record Image(String repo, String digest, byte[] manifest, String mediaType, String configDigest,
                        List<String> layerDigests) {
    }

    public static byte[] randomBytes(int size) {
        byte[] b = new byte[size];
        synchronized (RANDOM) {
            RANDOM.nextBytes(b);
        }
        return b;
    }

    public static JsonObject descriptor(String mediaType, String digest, long size) {
        return new JsonObject().put("mediaType", mediaType).put("digest", digest).put("size", size);
    }

    /** Pushes {@code layers} random layers and a config, then the manifest (OCI or Docker) at {@code reference}. */
    public static Image pushImage(RegistryClient c, String repo, String reference, int layers, boolean docker,
                                  String architecture) {
        byte[] config = new JsonObject().put("architecture", architecture).put("os", "linux")
                .put("rootfs", new JsonObject().put("type", "layers").put("diff_ids", new JsonArray()))
                .encode().getBytes(StandardCharsets.UTF_8);
        String configDigest = c.pushBlob(repo, config);
        JsonArray layerArray = new JsonArray();
        List<String> layerDigests = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            byte[] layer = randomBytes(1000 + i * 100);
            String d = c.pushBlob(repo, layer);
            layerDigests.add(d);
            layerArray.add(descriptor(docker ? DOCKER_LAYER : OCI_LAYER, d, layer.length));
        }
        String mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
        JsonObject manifest = new JsonObject().put("schemaVersion", 2).put("mediaType", mediaType)
                .put("config", descriptor(docker ? DOCKER_CONFIG : OCI_CONFIG, configDigest, config.length))
                .put("layers", layerArray);
        byte[] bytes = manifest.encode().getBytes(StandardCharsets.UTF_8);
        String digest = c.pushManifest(repo, reference, mediaType, bytes);
        assertEquals(RegistryClient.sha256(bytes), digest);
        return new Image(repo, digest, bytes, mediaType, configDigest, layerDigests);
    }

    public static Image pushImage(RegistryClient c, String repo, String reference) {
        return pushImage(c, repo, reference, 2, false, "amd64");
    }

    /** An index over already pushed images, each entry with a linux platform of that architecture. */
    public static byte[] index(String mediaType, String childType, List<Image> children, List<String> architectures) {
        JsonArray manifests = new JsonArray();
        for (int i = 0; i < children.size(); i++) {
            manifests.add(descriptor(childType, children.get(i).digest(), children.get(i).manifest().length)
                    .put("platform", new JsonObject().put("os", "linux").put("architecture", architectures.get(i))));
        }
        return new JsonObject().put("schemaVersion", 2).put("mediaType", mediaType).put("manifests", manifests)
                .encode().getBytes(StandardCharsets.UTF_8);
    }

    /** Asserts the response is the spec's error body with {@code status} and first code {@code code}. */
    public static JsonObject assertError(HttpResponse<byte[]> r, int status, String code) {
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), () -> "status of " + r.request().method() + " " + r.uri() + ": " + body);
        assertEquals("registry/2.0", r.headers().firstValue("Docker-Distribution-API-Version").orElse(null));
        if (r.request().method().equals("HEAD")) {
            return null;
        }
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), body);
        JsonObject json = new JsonObject(body);
        JsonArray errors = json.getJsonArray("errors");
        assertFalse(errors.isEmpty(), body);
        JsonObject first = errors.getJsonObject(0);
        assertEquals(code, first.getString("code"), body);
        assertFalse(first.getString("message", "").isEmpty(), body);
        return first;
    }

    public static JsonObject json(HttpResponse<byte[]> r) {
        return new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
    }

    public static String header(HttpResponse<byte[]> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    /** Polls {@code condition} every 20 ms until it holds; fails naming {@code what} after {@code timeout}. */
    public static void awaitTrue(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what,
                                 java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out after " + timeout + " waiting until " + what.get());
    }
}
