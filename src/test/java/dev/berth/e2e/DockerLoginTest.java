package dev.berth.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.auth.Pem;
import dev.berth.auth.Users;
import dev.berth.testing.ExternalCommand;
import dev.berth.testing.ExternalCommand.Result;
import dev.berth.testing.OciLayout;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.RequiredTools;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real Docker and skopeo clients signing in to Berth over HTTPS with token authentication
 * ({@code auth.mode: token}, {@code tls.auto}): {@code docker login} and the token flow it drives,
 * per-repository rules for a team member, a pull-only user and anonymous clients, a CI token used
 * as a password, and skopeo with {@code --creds}.
 *
 * <p>Every docker CLI call names its own client config directory ({@code docker --config DIR}), one
 * per identity, so credentials never reach (or come from) the host's {@code ~/.docker}; skopeo gets
 * an empty auth file for the same reason.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DockerLoginTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern PUSHED_DIGEST = Pattern.compile("\\S+: digest: (sha256:[0-9a-f]{64}) size: \\d+");
    /**
     * How skopeo reports a refusal: the registry's error code when the response has a body, the bare
     * status (401 or 403) when it does not (a HEAD for a blob it would reuse).
     */
    private static final Pattern REFUSED = Pattern.compile(
            "denied|unauthorized|authentication required|401 \\(Unauthorized\\)|403 \\(Forbidden\\)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG = """
            tls:
              auto: true
            agent:
              embedded: false
            auth:
              mode: token
              rules:
                - repositories: ["team/**"]
                  groups: [team]
                  actions: [pull, push]
                - repositories: ["team/**"]
                  users: [bob]
                  actions: [pull]
                - repositories: ["public/**"]
                  anonymous: true
                  actions: [pull]
            """;

    @TempDir
    static Path tmp;

    private static final String RUN_ID = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private static final String ROOT_PASSWORD = "root-" + RUN_ID;
    private static final String ALICE_PASSWORD = "alice-" + RUN_ID;
    private static final String BOB_PASSWORD = "bob-" + RUN_ID;

    private static TestRegistry registry;
    private static Path caFile;
    /** /etc/docker/certs.d/127.0.0.1:PORT, once made; removed after the tests. */
    private static Path dockerCertsDir;
    /** Whether this test made /etc/docker/certs.d itself (then it removes it again when empty). */
    private static boolean madeCertsRoot;
    /** The image built for the docker tests (null until {@link #image()}); removed after the tests. */
    private static String imageId;
    private static final Set<String> createdRefs = new LinkedHashSet<>();

    @BeforeAll
    static void startRegistry() throws Exception {
        Path storage = tmp.resolve("storage");
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        users.setPassword("root", ROOT_PASSWORD);
        users.setGroups("root", Set.of("admin"));
        users.setPassword("alice", ALICE_PASSWORD);
        users.setGroups("alice", Set.of("team"));
        users.setPassword("bob", BOB_PASSWORD);
        Path config = Files.writeString(tmp.resolve("berth.yaml"), CONFIG);
        registry = TestRegistry.start(storage, config, Map.of());
        caFile = storage.resolve("pki/ca.crt");
        assertTrue(Files.isRegularFile(caFile), "tls.auto should have made " + caFile);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            DockerCli cleaner = new DockerCli("cleanup");
            for (String ref : createdRefs) {
                cleaner.run("rmi", "-f", ref); // best effort
            }
            if (imageId != null) {
                cleaner.run("rmi", "-f", imageId);
            }
        } finally {
            try {
                if (dockerCertsDir != null) {
                    deleteTree(dockerCertsDir);
                    if (madeCertsRoot) {
                        Files.deleteIfExists(dockerCertsDir.getParent()); // only when empty
                    }
                }
            } finally {
                if (registry != null) {
                    registry.close();
                }
            }
        }
    }

    @Test
    void aliceLogsInPushesAndPullsBackWhatSheHasPushed() throws Exception {
        String seeded = image();
        DockerCli alice = new DockerCli("alice");
        alice.loginOk("alice", ALICE_PASSWORD);

        String ref = registry.hostPort() + "/team/app:v1";
        alice.tag(seeded, ref);
        Result push = alice.ok("push", ref);
        Matcher m = PUSHED_DIGEST.matcher(push.stdout());
        assertTrue(m.find(), "no digest in the push output; " + push);
        String digest = m.group(1);

        alice.ok("rmi", ref);
        Result pull = alice.ok("pull", ref);
        assertTrue(pull.stdout().contains(digest), "the pull should report digest " + digest + "; " + pull);
        String repoDigests = alice.ok("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", ref)
                .stdout();
        assertTrue(repoDigests.lines().anyMatch((registry.hostPort() + "/team/app@" + digest)::equals),
                "RepoDigests of " + ref + " should hold the pushed digest " + digest + ": " + repoDigests);
    }

    @Test
    void aWrongPasswordIsRefusedAtLogin() throws Exception {
        RequiredTools.docker();
        trustAuthorityInDaemon();
        DockerCli mallory = new DockerCli("wrong-password");
        Result login = mallory.login("alice", "not-" + ALICE_PASSWORD);
        assertNotEquals(0, login.exitCode(), login.toString());
        assertTrue(login.stderr().contains("unauthorized: wrong user name or password"), login.toString());
        Path clientConfig = mallory.config().resolve("config.json");
        assertFalse(Files.exists(clientConfig) && Files.readString(clientConfig).contains(registry.hostPort()),
                "a refused login must not store credentials");
    }

    @Test
    void aUserWithPullRightsPullsButMayNotPush() throws Exception {
        image();
        DockerCli bob = new DockerCli("bob");
        bob.loginOk("bob", BOB_PASSWORD);

        String base = registry.hostPort() + "/team/base:v1";
        bob.ok("pull", base);

        String pushed = registry.hostPort() + "/team/base:bob";
        bob.tag(base, pushed);
        Result push = bob.run("push", pushed);
        assertNotEquals(0, push.exitCode(), "bob has no push rights on team/**; " + push);
        assertTrue(output(push).contains("denied: requested access to the resource is denied"), push.toString());
    }

    @Test
    void afterLogoutOnlyPublicRepositoriesCanBePulled() throws Exception {
        image();
        DockerCli anonymous = new DockerCli("anonymous");
        anonymous.loginOk("alice", ALICE_PASSWORD);
        anonymous.ok("logout", registry.hostPort());
        String clientConfig = Files.readString(anonymous.config().resolve("config.json"));
        assertFalse(clientConfig.contains(registry.hostPort()), "logout should forget the credentials: " + clientConfig);

        anonymous.ok("pull", registry.hostPort() + "/public/hello:v1");

        String team = registry.hostPort() + "/team/base:v1";
        anonymous.run("rmi", team); // if another test pulled it: the refusal must be the registry's
        Result pull = anonymous.run("pull", team);
        assertNotEquals(0, pull.exitCode(), "anonymous clients may not pull team/**; " + pull);
        assertTrue(output(pull).contains("pull access denied for " + registry.hostPort() + "/team/base"), pull.toString());
    }

    @Test
    void aCiTokenIsAPasswordForDockerLogin() throws Exception {
        String seeded = image();
        HttpClient https = HttpClient.newBuilder().sslContext(Pem.trusting(caFile))
                .connectTimeout(Duration.ofSeconds(10)).build();
        String basic = Base64.getEncoder().encodeToString(("alice:" + ALICE_PASSWORD).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> made = https.send(HttpRequest.newBuilder(URI.create("https://" + registry.hostPort() + "/api/tokens"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"ci\",\"repositories\":[\"team/**\"],\"actions\":[\"pull\",\"push\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, made.statusCode(), made.body());
        String token = JSON.readTree(made.body()).path("token").asText();
        assertTrue(token.startsWith("bpt."), made.body());

        DockerCli ci = new DockerCli("ci");
        ci.loginOk("alice", token);
        String ref = registry.hostPort() + "/team/ci:v1";
        ci.tag(seeded, ref);
        Result push = ci.ok("push", ref);
        assertTrue(PUSHED_DIGEST.matcher(push.stdout()).find(), push.toString());
    }

    @Test
    void skopeoSignsInWithCredentials() throws Exception {
        RequiredTools.skopeo();
        // skopeo reads CA certificates (*.crt) from a directory and, unlike the daemon here, verifies.
        Path certs = Files.createDirectories(tmp.resolve("skopeo-certs"));
        Files.copy(caFile, certs.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
        OciLayout layout = OciLayout.create(tmp.resolve("layout"), new Random(8));
        OciLayout.Image image = layout.image("amd64", 2, 40_000);
        layout.tag(image, "v1");
        String source = "oci:" + layout.dir() + ":v1";
        String remote = "docker://" + registry.hostPort() + "/team/skopeo";

        Result push = skopeo("copy", "--dest-creds", "alice:" + ALICE_PASSWORD, "--dest-cert-dir", certs.toString(),
                source, remote + ":v1");
        assertEquals(0, push.exitCode(), push.toString());

        Result inspect = skopeo("inspect", "--raw", "--creds", "bob:" + BOB_PASSWORD, "--cert-dir", certs.toString(),
                remote + ":v1");
        assertEquals(0, inspect.exitCode(), inspect.toString());
        assertEquals(image.digest(), RegistryClient.sha256(inspect.stdoutBytes()), "digest of what bob pulled");

        Result bobPush = skopeo("copy", "--dest-creds", "bob:" + BOB_PASSWORD, "--dest-cert-dir", certs.toString(),
                source, remote + ":bob");
        assertNotEquals(0, bobPush.exitCode(), "bob may only pull; " + bobPush);
        assertTrue(bobPush.stderr().contains("denied"), bobPush.toString());

        Result anonymousPush = skopeo("copy", "--dest-cert-dir", certs.toString(), source, remote + ":anonymous");
        assertNotEquals(0, anonymousPush.exitCode(), "anonymous clients may not push; " + anonymousPush);
        assertTrue(REFUSED.matcher(anonymousPush.stderr()).find(), anonymousPush.toString());

        // Neither refused push left a tag behind.
        for (String tag : List.of("bob", "anonymous")) {
            Result absent = skopeo("inspect", "--raw", "--creds", "alice:" + ALICE_PASSWORD, "--cert-dir", certs.toString(),
                    remote + ":" + tag);
            assertNotEquals(0, absent.exitCode(), absent.toString());
            assertTrue(absent.stderr().contains("manifest unknown"), absent.toString());
        }

        Result wrongPassword = skopeo("inspect", "--raw", "--creds", "alice:not-" + ALICE_PASSWORD,
                "--cert-dir", certs.toString(), remote + ":v1");
        assertNotEquals(0, wrongPassword.exitCode(), wrongPassword.toString());
        assertTrue(wrongPassword.stderr().contains("invalid username/password"), wrongPassword.toString());
    }

    // ---- the shared image and the daemon's trust ----

    /**
     * Builds (once) a small FROM-scratch busybox image, trusts Berth's authority in the daemon and,
     * as root, pushes it to team/base:v1 and public/hello:v1 for the tests that only pull. Returns
     * the local name of the image.
     */
    private static synchronized String image() throws Exception {
        String localName = "berth-login-" + RUN_ID + ":latest";
        if (imageId != null) {
            return localName;
        }
        RequiredTools.docker();
        Path busybox = RequiredTools.staticBusybox();
        trustAuthorityInDaemon();

        DockerCli root = new DockerCli("root");
        Path context = Files.createDirectories(tmp.resolve("context"));
        Files.copy(busybox, context.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.writeString(context.resolve("run-id"), RUN_ID + "\n");
        Files.writeString(context.resolve("Dockerfile"), String.join("\n",
                "FROM scratch",
                "COPY busybox /bin/busybox",
                "COPY run-id /etc/berth-run-id",
                "CMD [\"/bin/busybox\", \"sh\"]",
                ""));
        createdRefs.add(localName);
        root.ok("build", "--pull=false", "-q", "-t", localName, context.toString());
        imageId = root.ok("image", "inspect", "--format", "{{.Id}}", localName).stdout().trim();

        root.loginOk("root", ROOT_PASSWORD);
        for (String repo : List.of("team/base:v1", "public/hello:v1")) {
            String ref = registry.hostPort() + "/" + repo;
            root.tag(localName, ref);
            root.ok("push", ref);
            root.ok("rmi", ref);
        }
        return localName;
    }

    /**
     * Puts the authority where users put it: /etc/docker/certs.d/HOST:PORT/ca.crt. Docker treats
     * loopback registries (127.0.0.0/8) as insecure, so for 127.0.0.1 it does not strictly verify
     * the certificate; the connection is still HTTPS, since Berth speaks nothing else on that port.
     */
    private static synchronized void trustAuthorityInDaemon() throws IOException {
        if (dockerCertsDir != null) {
            return;
        }
        Path root = Path.of("/etc/docker/certs.d");
        madeCertsRoot = !Files.isDirectory(root);
        dockerCertsDir = Files.createDirectories(root.resolve(registry.hostPort()));
        Files.copy(caFile, dockerCertsDir.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String output(Result r) {
        return r.stdout() + "\n" + r.stderr();
    }

    // ---- running the clients ----

    /** The docker CLI as one identity: every call names the same private client config directory. */
    private record DockerCli(Path config) {
        DockerCli(String identity) throws IOException {
            this(Files.createDirectories(tmp.resolve("docker-config-" + identity)));
        }

        Result run(String... args) throws IOException, InterruptedException {
            return ExternalCommand.run(command(args), Map.of("DOCKER_BUILDKIT", "0"), tmp, COMMAND_TIMEOUT);
        }

        /** Runs docker and fails the test unless it exits 0. */
        Result ok(String... args) throws IOException, InterruptedException {
            Result r = run(args);
            if (r.exitCode() != 0) {
                fail(r.toString());
            }
            return r;
        }

        void tag(String source, String ref) throws IOException, InterruptedException {
            createdRefs.add(ref);
            ok("tag", source, ref);
        }

        /** docker login with the password on standard input, as scripts and CI jobs do it. */
        Result login(String user, String password) throws IOException, InterruptedException {
            Path secret = Files.createTempFile(tmp, "password", "");
            try {
                Files.writeString(secret, password);
                return ExternalCommand.run(command("login", "--username", user, "--password-stdin", registry.hostPort()),
                        Map.of(), tmp, COMMAND_TIMEOUT, secret);
            } finally {
                Files.delete(secret);
            }
        }

        /** {@link #login} that must succeed. */
        void loginOk(String user, String password) throws IOException, InterruptedException {
            Result r = login(user, password);
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.stdout().contains("Login Succeeded"), r.toString());
        }

        private List<String> command(String... args) {
            List<String> command = new ArrayList<>(List.of("docker", "--config", config.toString()));
            command.addAll(List.of(args));
            return command;
        }
    }

    /** Runs skopeo without retries; never with the host's credentials (an empty auth file). */
    private static Result skopeo(String subcommand, String... args) throws IOException, InterruptedException {
        Path authFile = tmp.resolve("skopeo-auth.json");
        if (!Files.exists(authFile)) {
            Files.writeString(authFile, "{}");
        }
        List<String> command = new ArrayList<>(List.of("skopeo", subcommand, "--retry-times=0", "--authfile", authFile.toString()));
        command.addAll(List.of(args));
        return ExternalCommand.run(command, Map.of(), tmp, COMMAND_TIMEOUT);
    }
}
