package dev.berth.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.IsolatedDockerDaemon;
import dev.berth.testing.OciLayout;
import dev.berth.testing.ReferenceRegistry;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Docker daemon with {@code registry-mirrors} pointing at Berth pulls {@code library/tiny}
 * that only the upstream standing in for Docker Hub (the reference registry, behind htpasswd)
 * holds. The daemon is a second dockerd in its own network, mount and PID namespaces
 * ({@link IsolatedDockerDaemon}): it has no network but the mirror, so Docker Hub is out of reach
 * and a successful pull can only have come through Berth, and the host's daemon and its
 * {@code docker0} bridge are left alone (checked at the end).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MirrorDockerDaemonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private ReferenceRegistry upstream;
    private TestRegistry berth;
    private IsolatedDockerDaemon daemon;
    private OciLayout.Image image;
    private String hostBridgeBefore;

    @BeforeEach
    void start() throws Exception {
        RequiredTools.docker();
        RequiredTools.skopeo();
        IsolatedDockerDaemon.requireTools();
        hostBridgeBefore = hostBridge();

        upstream = ReferenceRegistry.start(tmp.resolve("upstream"), "alice", "s3cret");
        OciLayout layout = OciLayout.create(tmp.resolve("layout"), new Random(7));
        image = layout.image(dockerArchitecture(), 2, 100_000);
        layout.tag(image, "v1");
        run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", "oci:" + layout.dir() + ":v1",
                "docker://" + upstream.hostPort() + "/library/tiny:v1");

        Path config = tmp.resolve("berth.yaml");
        Files.writeString(config, """
                mirror:
                  upstreams:
                    - name: hub
                      url: %s
                      host: docker.io
                      default: true
                      username: alice
                      password: s3cret
                      timeout: 10s
                """.formatted(upstream.baseUrl()));
        berth = TestRegistry.start(tmp.resolve("berth"), config, Map.of());
        daemon = IsolatedDockerDaemon.start(tmp.resolve("dockerd"), berth.port());
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (daemon != null) {
                daemon.close();
            }
        } finally {
            if (berth != null) {
                berth.close();
            }
            if (upstream != null) {
                upstream.close();
            }
        }
    }

    @Test
    void aDockerDaemonWithRegistryMirrorsPullsALibraryImageOnlyTheUpstreamHolds() throws Exception {
        ExternalCommand.Result info = daemon.docker(tmp, "info", "--format", "{{json .RegistryConfig.Mirrors}}");
        assertEquals(0, info.exitCode(), info.toString());
        assertEquals(List.of(IsolatedDockerDaemon.MIRROR_URL + "/"), strings(JSON.readTree(info.stdout())));

        // A Docker Hub name: the daemon asks its mirror first; Docker Hub itself is unreachable.
        ExternalCommand.Result pull = daemon.docker(tmp, "pull", "library/tiny:v1");
        assertEquals(0, pull.exitCode(), pull + "\n" + daemon.logs());
        assertTrue(pull.stdout().contains("Digest: " + image.digest()), pull.stdout());

        ExternalCommand.Result inspect = daemon.docker(tmp, "image", "inspect", "tiny:v1");
        assertEquals(0, inspect.exitCode(), inspect.toString());
        JsonNode pulled = JSON.readTree(inspect.stdout()).get(0);
        assertEquals(List.of("tiny@" + image.digest()), strings(pulled.get("RepoDigests")));
        assertEquals(image.configDigest(), pulled.get("Id").asText());
        assertEquals(image.layers().stream().map(OciLayout.Layer::diffId).toList(),
                strings(pulled.get("RootFS").get("Layers")));

        // It came through Berth: the daemon connected to the mirror, Berth fetched the manifest and
        // each blob once from the upstream (the daemon cannot reach it) and keeps them in its cache.
        assertTrue(daemon.mirrorConnections() > 0, "the daemon never connected to the mirror");
        Map<String, Integer> fetched = upstreamGets("manifests", "v1|sha256:[0-9a-f]{64}");
        assertFalse(fetched.isEmpty(), "no manifest fetch upstream:\n" + upstream.output());
        Map<String, Integer> blobs = upstreamGets("blobs", "sha256:[0-9a-f]{64}");
        assertEquals(countOnce(image.blobDigests()), blobs, upstream.output());
        assertFalse(Pattern.compile("useragent=\"?docker/").matcher(upstream.output()).find(),
                "the daemon reached the upstream itself:\n" + upstream.output());
        HttpResponse<byte[]> catalog = berth.client().get("/v2/_catalog");
        assertEquals(200, catalog.statusCode());
        assertTrue(strings(JSON.readTree(catalog.body()).get("repositories")).contains("hub.mirror/library/tiny"),
                new String(catalog.body(), StandardCharsets.UTF_8));

        // The host's daemon and its bridge are untouched.
        daemon.close();
        assertEquals(hostBridgeBefore, hostBridge(), "the host's docker0 changed");
        run("docker", "network", "inspect", "bridge");
    }

    /**
     * GETs of {@code /v2/library/tiny/<kind>/<ref>} the upstream answered 200 to Berth's client
     * (user agent {@code berth-mirror}), by reference, from its access log.
     */
    private Map<String, Integer> upstreamGets(String kind, String refPattern) throws Exception {
        Pattern get = Pattern.compile("http\\.request\\.method=GET .*http\\.request\\.uri=\"?/v2/library/tiny/" + kind
                + "/(" + refPattern + ")[\" ].*http\\.request\\.useragent=\"?berth-mirror[\" ].*http\\.response\\.status=200");
        Map<String, Integer> counts = new HashMap<>();
        for (String line : upstream.output().split("\n")) {
            Matcher m = get.matcher(line);
            if (m.find()) {
                counts.merge(m.group(1), 1, Integer::sum);
            }
        }
        return counts;
    }

    private static Map<String, Integer> countOnce(List<String> digests) {
        Map<String, Integer> counts = new HashMap<>();
        digests.forEach(d -> counts.put(d, 1));
        return counts;
    }

    /** {@code docker0} on the host as {@code ip -o link} shows it (index, name, flags), or "absent". */
    private String hostBridge() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(List.of("ip", "-o", "link", "show", "docker0"), Map.of(), tmp,
                Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            return "absent";
        }
        Matcher m = Pattern.compile("^(\\d+): (\\S+?):").matcher(r.stdout());
        return m.find() ? m.group(1) + " " + m.group(2) : r.stdout().strip();
    }

    private static String dockerArchitecture() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private ExternalCommand.Result run(String... command) throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(List.of(command), Map.of(), tmp, Duration.ofMinutes(2));
        assertEquals(0, r.exitCode(), r.toString());
        return r;
    }
}
