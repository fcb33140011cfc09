package dev.berth.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.ExternalCommand.Result;
import dev.berth.testing.OciLayout;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round trips through Berth with skopeo: OCI layouts written by {@link OciLayout} are copied into
 * the registry and back out, and everything must come back byte for byte (same digests).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SkopeoRoundTripTest {
    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    @TempDir
    Path tmp;

    private TestRegistry registry;

    @BeforeEach
    void startRegistry() throws Exception {
        RequiredTools.skopeo();
        registry = newRegistry(tmp.resolve("storage"));
    }

    TestRegistry registry() {
        return registry;
    }

    /** The registry under test; subclasses run the same round trips on other storage. */
    TestRegistry newRegistry(Path storage) throws Exception {
        return TestRegistry.start(storage);
    }

    @AfterEach
    void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void multiLayerImageRoundTripsByTagAndDigest() throws Exception {
        OciLayout src = OciLayout.create(tmp.resolve("src"), new Random(42));
        OciLayout.Image image = src.image("amd64", 4, 300 * 1024);
        src.tag(image, "v1");
        String remote = "docker://" + registry.hostPort() + "/e2e/multi";

        skopeo("copy", "--dest-tls-verify=false", "oci:" + src.dir() + ":v1", remote + ":v1");

        // The registry serves exactly the bytes that were pushed.
        Result raw = skopeo("inspect", "--raw", "--tls-verify=false", remote + ":v1");
        assertEquals(image.digest(), RegistryClient.sha256(raw.stdoutBytes()), "digest of `skopeo inspect --raw` output; " + raw);

        // Back out by tag: same manifest, same config and layers.
        Path out = tmp.resolve("out");
        skopeo("copy", "--src-tls-verify=false", remote + ":v1", "oci:" + out + ":v1");
        assertEquals(image.digest(), OciLayout.refDigest(out, "v1"), "manifest digest in " + out + "/index.json");
        assertImageBlobs(out, image);

        // Back out by digest.
        Path byDigest = tmp.resolve("by-digest");
        skopeo("copy", "--src-tls-verify=false", remote + "@" + image.digest(), "oci:" + byDigest + ":pulled");
        assertEquals(image.digest(), OciLayout.refDigest(byDigest, "pulled"),
                "manifest digest in " + byDigest + "/index.json after a pull by digest");
        assertImageBlobs(byDigest, image);

        Result rawByDigest = skopeo("inspect", "--raw", "--tls-verify=false", remote + "@" + image.digest());
        assertEquals(image.digest(), RegistryClient.sha256(rawByDigest.stdoutBytes()),
                "digest of `skopeo inspect --raw` by digest; " + rawByDigest);
    }

    @Test
    void multiPlatformIndexRoundTripsWithAll() throws Exception {
        OciLayout src = OciLayout.create(tmp.resolve("src"), new Random(7));
        OciLayout.Image amd64 = src.image("amd64", 2, 100 * 1024);
        OciLayout.Image arm64 = src.image("arm64", 2, 100 * 1024);
        OciLayout.Index index = src.index(List.of(amd64, arm64));
        src.tag(index, "v1");
        String repo = "e2e/multiarch";
        String remote = "docker://" + registry.hostPort() + "/" + repo;

        skopeo("copy", "--all", "--dest-tls-verify=false", "oci:" + src.dir() + ":v1", remote + ":v1");

        // The index as served by the registry: OCI index media type, same digest and bytes.
        RegistryClient client = registry.client();
        HttpResponse<byte[]> got = client.get("/v2/" + repo + "/manifests/v1",
                "Accept", OciLayout.OCI_INDEX + ", " + OciLayout.OCI_MANIFEST);
        RegistryClient.expect(got, 200);
        assertEquals(OciLayout.OCI_INDEX, got.headers().firstValue("Content-Type").orElse(null),
                "Content-Type of GET /v2/" + repo + "/manifests/v1");
        assertEquals(index.digest(), got.headers().firstValue("Docker-Content-Digest").orElse(null),
                "Docker-Content-Digest of GET /v2/" + repo + "/manifests/v1");
        assertEquals(index.digest(), RegistryClient.sha256(got.body()), "digest of the index body served");
        for (OciLayout.Image child : index.images()) {
            HttpResponse<byte[]> c = client.get("/v2/" + repo + "/manifests/" + child.digest(),
                    "Accept", OciLayout.OCI_MANIFEST);
            RegistryClient.expect(c, 200);
            assertEquals(OciLayout.OCI_MANIFEST, c.headers().firstValue("Content-Type").orElse(null),
                    "Content-Type of the " + child.architecture() + " manifest");
            assertEquals(child.digest(), RegistryClient.sha256(c.body()), child.architecture() + " manifest body");
        }

        Result raw = skopeo("inspect", "--raw", "--tls-verify=false", remote + ":v1");
        assertEquals(index.digest(), RegistryClient.sha256(raw.stdoutBytes()), "digest of `skopeo inspect --raw` output; " + raw);

        // Back out with --all: the same index, both children and all their blobs.
        Path out = tmp.resolve("out");
        skopeo("copy", "--all", "--src-tls-verify=false", remote + ":v1", "oci:" + out + ":v1");
        assertEquals(index.digest(), OciLayout.refDigest(out, "v1"), "index digest in " + out + "/index.json");
        assertTrue(OciLayout.hasVerifiedBlob(out, index.digest()), "index blob " + index.digest() + " in " + out);
        JsonNode copied = OciLayout.readJsonBlob(out, index.digest());
        List<String> childDigests = new ArrayList<>();
        copied.path("manifests").forEach(d -> childDigests.add(d.path("digest").asText()));
        assertEquals(List.of(amd64.digest(), arm64.digest()), childDigests, "child manifests of the copied index");
        assertImageBlobs(out, amd64);
        assertImageBlobs(out, arm64);
    }

    /** The manifest, config and every layer of {@code image} are in {@code layout} with their digests. */
    private static void assertImageBlobs(Path layout, OciLayout.Image image) throws IOException {
        assertTrue(OciLayout.hasVerifiedBlob(layout, image.digest()),
                "manifest " + image.digest() + " missing or corrupt in " + layout);
        JsonNode manifest = OciLayout.readJsonBlob(layout, image.digest());
        assertEquals(image.configDigest(), manifest.path("config").path("digest").asText(), "config of " + image.digest());
        List<String> layers = new ArrayList<>();
        manifest.path("layers").forEach(l -> layers.add(l.path("digest").asText()));
        assertEquals(image.layerDigests(), layers, "layers of " + image.digest());
        for (String blob : image.blobDigests()) {
            assertTrue(OciLayout.hasVerifiedBlob(layout, blob), "blob " + blob + " missing or corrupt in " + layout);
        }
    }

    // ---- running skopeo ----

    /** Runs skopeo (without retries) and fails the test unless it exits 0. */
    private Result skopeo(String subcommand, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("skopeo", subcommand));
        if (subcommand.equals("copy") || subcommand.equals("inspect")) {
            command.add("--retry-times=0");
        }
        if (subcommand.equals("copy")) {
            // Fail instead of silently converting: what comes back must be what went in.
            command.add("--preserve-digests");
        }
        command.addAll(List.of(args));
        Result r = run(command);
        assertEquals(0, r.exitCode(), r.toString());
        return r;
    }

    private Result run(List<String> command) throws IOException, InterruptedException {
        return ExternalCommand.run(command, Map.of(), tmp, Duration.ofSeconds(COMMAND_TIMEOUT_SECONDS));
    }
}
