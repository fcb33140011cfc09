package dev.berth.mirror;

import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.ExternalCommand;
import dev.berth.testing.OciLayout;
import dev.berth.testing.ReferenceRegistry;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Berth as a pull-through mirror of the reference registry (behind htpasswd), pulled with skopeo
 * and a plain HTTP client: prefix, {@code ?ns=} and default routing, byte-exact digests, one
 * upstream fetch per blob under concurrent cold pulls, and an upstream that goes away.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class MirrorTest {
    private static final String ACCEPT = "application/vnd.oci.image.manifest.v1+json, "
            + "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json";

    @TempDir
    Path tmp;
    private ReferenceRegistry upstream;
    private TestRegistry berth;
    private OciLayout.Image image;

    @BeforeEach
    void start() throws Exception {
        RequiredTools.skopeo();
        upstream = ReferenceRegistry.start(tmp.resolve("upstream"), "alice", "s3cret");
        OciLayout layout = OciLayout.create(tmp.resolve("layout"), new Random(11));
        image = layout.image("amd64", 3, 200_000);
        layout.tag(image, "v1");
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", "oci:" + layout.dir() + ":v1",
                "docker://" + upstream.hostPort() + "/library/tiny:v1");
    }

    @AfterEach
    void stop() throws Exception {
        if (berth != null) {
            berth.close();
        }
        upstream.close();
    }

    private TestRegistry startBerth(String tagTtl) throws Exception {
        Path config = tmp.resolve("berth.yaml");
        Files.writeString(config, """
                mirror:
                  upstreams:
                    - name: hub
                      url: %s
                      host: docker.io
                      prefix: hub/
                      default: true
                      username: alice
                      password: s3cret
                      tagTtl: %s
                      timeout: 5s
                """.formatted(upstream.baseUrl(), tagTtl));
        berth = TestRegistry.start(tmp.resolve("berth"), config, Map.of());
        return berth;
    }

    private ExternalCommand.Result skopeo(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("skopeo"));
        command.addAll(List.of(args));
        ExternalCommand.Result r = ExternalCommand.run(command, Map.of(), tmp, Duration.ofMinutes(2));
        assertEquals(0, r.exitCode(), r.toString());
        return r;
    }

    /** GETs of blobs the upstream served (status 200), by digest, from its access log. */
    private Map<String, Integer> upstreamBlobGets() throws Exception {
        Map<String, Integer> counts = new java.util.HashMap<>();
        Pattern get = Pattern.compile("http\\.request\\.method=GET .*http\\.request\\.uri=\"?/v2/library/tiny/blobs/"
                + "(sha256:[0-9a-f]{64}).*http\\.response\\.status=200");
        for (String line : upstream.output().split("\n")) {
            Matcher m = get.matcher(line);
            if (m.find()) {
                counts.merge(m.group(1), 1, Integer::sum);
            }
        }
        return counts;
    }

    @Test
    void skopeoPullsThroughThePrefixAndTheDefaultUpstreamWithIdenticalDigests() throws Exception {
        startBerth("5m");
        Path out = tmp.resolve("out");
        skopeo("copy", "--src-tls-verify=false", "docker://" + berth.hostPort() + "/hub/library/tiny:v1", "oci:" + out + ":v1");
        assertEquals(image.digest(), OciLayout.refDigest(out, "v1"));
        for (String blob : image.blobDigests()) {
            assertTrue(Files.exists(out.resolve("blobs/sha256/" + blob.substring(7))), blob);
        }
        // The name a Docker daemon with registry-mirrors asks for: no prefix, not a local repository.
        ExternalCommand.Result raw = skopeo("inspect", "--raw", "--tls-verify=false",
                "docker://" + berth.hostPort() + "/library/tiny:v1");
        assertEquals(image.digest(), RegistryClient.sha256(raw.stdoutBytes()));
        // containerd's ?ns= reaches the upstream whose host it names; by digest too.
        RegistryClient c = berth.client();
        HttpResponse<byte[]> byNs = c.get("/v2/library/tiny/manifests/v1?ns=docker.io", "Accept", ACCEPT);
        assertEquals(200, byNs.statusCode());
        assertEquals(image.digest(), header(byNs, "Docker-Content-Digest"));
        HttpResponse<byte[]> layer = c.get("/v2/library/tiny/blobs/" + image.layerDigests().get(0) + "?ns=docker.io");
        assertEquals(image.layerDigests().get(0), RegistryClient.sha256(layer.body()));
        // Everything was fetched once, whichever way it was asked for afterwards.
        upstreamBlobGets().forEach((digest, n) -> assertEquals(1, n, "upstream GETs of " + digest));
        // An unknown ns is not mirrored; unknown content upstream is a clear 404.
        assertError(c.get("/v2/library/tiny/manifests/v1?ns=quay.io", "Accept", ACCEPT), 404, "MANIFEST_UNKNOWN");
        assertError(c.get("/v2/hub/library/nothing/manifests/v1", "Accept", ACCEPT), 404, "MANIFEST_UNKNOWN");
    }

    @Test
    void localRepositoriesWorkBesideTheMirrorAndMirroredNamesRefusePushes() throws Exception {
        startBerth("5m");
        RegistryClient c = berth.client();
        dev.berth.testing.Fixtures.Image local = dev.berth.testing.Fixtures.pushImage(c, "team/app", "v1");
        HttpResponse<byte[]> got = c.get("/v2/team/app/manifests/v1", "Accept", local.mediaType());
        assertEquals(local.digest(), header(got, "Docker-Content-Digest"));
        assertError(c.post("/v2/hub/library/tiny/blobs/uploads/", new byte[0]), 403, "DENIED");
        assertError(c.put("/v2/hub/library/tiny/manifests/v2", local.manifest(), "Content-Type", local.mediaType()),
                403, "DENIED");
        assertError(c.post("/v2/hub.mirror/library/tiny/blobs/uploads/", new byte[0]), 403, "DENIED");
    }

    @Test
    void eightConcurrentColdPullsFetchEachBlobOnceUpstream() throws Exception {
        startBerth("5m");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ExternalCommand.Result>> pulls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Path out = tmp.resolve("pull" + i);
                pulls.add(pool.submit(() -> skopeo("copy", "--src-tls-verify=false",
                        "docker://" + berth.hostPort() + "/hub/library/tiny:v1", "oci:" + out + ":v1")));
            }
            for (int i = 0; i < 8; i++) {
                pulls.get(i).get(3, TimeUnit.MINUTES);
                assertEquals(image.digest(), OciLayout.refDigest(tmp.resolve("pull" + i), "v1"));
            }
        } finally {
            pool.shutdownNow();
        }
        Map<String, Integer> gets = upstreamBlobGets();
        assertEquals(image.blobDigests().size(), gets.size(), "blobs fetched: " + gets);
        gets.forEach((digest, n) -> assertEquals(1, n, "upstream GETs of " + digest));
    }

    @Test
    void whenTheUpstreamIsGoneCachedImagesStillPullAndOthersGetAClearError() throws Exception {
        startBerth("0s"); // every tag request revalidates
        Path first = tmp.resolve("first");
        skopeo("copy", "--src-tls-verify=false", "docker://" + berth.hostPort() + "/hub/library/tiny:v1", "oci:" + first + ":v1");
        upstream.close();

        RegistryClient c = berth.client();
        HttpResponse<byte[]> stale = c.get("/v2/hub/library/tiny/manifests/v1", "Accept", ACCEPT);
        assertEquals(200, stale.statusCode());
        assertEquals(image.digest(), header(stale, "Docker-Content-Digest"));
        assertTrue(String.valueOf(header(stale, "Warning")).startsWith("110"), "stale warning: " + header(stale, "Warning"));
        Path again = tmp.resolve("again");
        skopeo("copy", "--src-tls-verify=false", "docker://" + berth.hostPort() + "/hub/library/tiny:v1", "oci:" + again + ":v1");
        assertEquals(image.digest(), OciLayout.refDigest(again, "v1"));

        assertError(c.get("/v2/hub/library/other/manifests/v1", "Accept", ACCEPT), 503, "UNAVAILABLE");
        assertError(c.get("/v2/hub/library/tiny/blobs/sha256:" + "0".repeat(64)), 503, "UNAVAILABLE");
    }
}
