package dev.berth.auth;

import static dev.berth.auth.TokenAuthTest.basic;
import static dev.berth.auth.TokenAuthTest.bearer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.app.Main;
import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The control-plane API and {@code /metrics} with authentication on: admins only (or a CI token an
 * admin made for the API), with the three endpoints that carry their own proof left open; CI tokens
 * made, used, limited, listed and revoked through {@code /api/tokens}; and the {@code berth user}
 * and {@code berth token} commands.
 *
 * <p>Users: root (group admin), alice and dave (group team). Rules: the team pulls and pushes
 * {@code team/**}; alice may also delete there and do anything on {@code alice/**}.
 */
@Timeout(60)
class ApiAuthTest {
    private static final String ROOT_PW = "root-password-1";
    private static final String ALICE_PW = "alice-password-1";
    private static final String DAVE_PW = "dave-password-1";
    private static final String CONFIG = """
            deploy:
              hookSecret: "hook-secret-for-tests"
            auth:
              mode: token
              rules:
                - repositories: ["team/**"]
                  groups: [team]
                  actions: [pull, push]
                - repositories: ["team/**"]
                  users: [alice]
                  actions: [delete]
                - repositories: ["alice/**"]
                  users: [alice]
                  actions: ["*"]
            """;

    @TempDir
    static Path dir;
    @TempDir
    Path tmp;

    private static Path storage;
    private static Path config;
    private static TestRegistry berth;
    private static RegistryClient c;

    @BeforeAll
    static void start() throws Exception {
        storage = dir.resolve("storage");
        TokenAuthTest.addUsers(storage, Map.of("root", ROOT_PW, "alice", ALICE_PW, "dave", DAVE_PW),
                Map.of("root", Set.of("admin"), "alice", Set.of("team"), "dave", Set.of("team")));
        config = dir.resolve("berth.yaml");
        Files.writeString(config, CONFIG);
        berth = TestRegistry.start(storage, config, Map.of());
        c = berth.client();
    }

    @AfterAll
    static void stop() {
        if (berth != null) {
            berth.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    private static HttpResponse<byte[]> api(String action, String authorization) {
        return post("/api/" + action, new JsonObject(), authorization);
    }

    private static HttpResponse<byte[]> post(String path, JsonObject body, String authorization) {
        byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
        return authorization == null ? c.post(path, bytes, "Content-Type", "application/json")
                : c.post(path, bytes, "Content-Type", "application/json", "Authorization", authorization);
    }

    private static HttpResponse<byte[]> get(String path, String authorization) {
        return authorization == null ? c.get(path) : c.get(path, "Authorization", authorization);
    }

    private static HttpResponse<byte[]> delete(String path, String authorization) {
        return c.send(c.request(path).DELETE().header("Authorization", authorization).build());
    }

    /** Asserts an API error {@code {"error":{code,message}}} and returns it. */
    private static JsonObject assertApiError(HttpResponse<byte[]> r, int status, String code) {
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.uri() + ": " + body);
        assertTrue(Fixtures.header(r, "Content-Type").startsWith("application/json"), body);
        JsonObject error = new JsonObject(body).getJsonObject("error");
        assertNotNull(error, body);
        assertEquals(code, error.getString("code"), body);
        assertFalse(error.getString("message", "").isEmpty(), body);
        return error;
    }

    /** A CI token made by {@code authorization}'s user; fails unless it is created. */
    private static JsonObject createToken(String authorization, JsonObject request) {
        HttpResponse<byte[]> r = post("/api/tokens", request, authorization);
        assertEquals(201, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
        return Fixtures.json(r);
    }

    /** Waits (the server reads the users file every 2 s) until {@code done} holds. */
    private static void await(Supplier<Boolean> done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        while (!done.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    private static int tokenStatus(String authorization) {
        return get("/auth/token?service=berth", authorization).statusCode();
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void theApiAndMetricsAreForAdmins() {
        HttpResponse<byte[]> anonymous = api("ListClusters", null);
        assertApiError(anonymous, 401, "UnauthorizedException");
        assertEquals("Basic realm=\"berth\"", Fixtures.header(anonymous, "WWW-Authenticate"));
        JsonObject wrong = assertApiError(api("ListClusters", basic("root", "not-the-password")), 401,
                "UnauthorizedException");
        assertEquals("wrong user name or password", wrong.getString("message"));
        JsonObject alice = assertApiError(api("ListClusters", basic("alice", ALICE_PW)), 403, "AccessDeniedException");
        assertTrue(alice.getString("message").startsWith("alice may not use the control-plane API"), alice.encode());
        assertApiError(get("/api/webhooks", basic("alice", ALICE_PW)), 403, "AccessDeniedException");
        // A registry access token is no key to the API, not even an admin's.
        String rootJwt = TokenAuthTest.token(c, basic("root", ROOT_PW), "registry:catalog:*");
        assertApiError(api("ListClusters", bearer(rootJwt)), 403, "AccessDeniedException");

        HttpResponse<byte[]> root = api("ListClusters", basic("root", ROOT_PW));
        assertEquals(200, root.statusCode(), new String(root.body(), StandardCharsets.UTF_8));
        assertNotNull(Fixtures.json(root).getJsonArray("clusterArns"));

        HttpResponse<byte[]> metrics = get("/metrics", null);
        assertApiError(metrics, 401, "UnauthorizedException");
        assertEquals("Basic realm=\"berth\"", Fixtures.header(metrics, "WWW-Authenticate"));
        assertApiError(get("/metrics", basic("alice", ALICE_PW)), 403, "AccessDeniedException");
        HttpResponse<byte[]> allowed = get("/metrics", basic("root", ROOT_PW));
        assertEquals(200, allowed.statusCode());
        assertTrue(Fixtures.header(allowed, "Content-Type").startsWith("text/plain; version=0.0.4"),
                Fixtures.header(allowed, "Content-Type"));
    }

    /** Authorization decides on the path the router matches (dot segments removed), not on the raw one. */
    @Test
    void dotSegmentsDoNotOpenTheApiToNonAdmins() {
        String alice = basic("alice", ALICE_PW);
        List<String> leaks = new ArrayList<>();
        for (String path : List.of("/api/tokens/../ListClusters", "/api/tokens/%2e%2e/ListClusters",
                "/api/tokens/x/../../ListClusters")) {
            HttpResponse<byte[]> r = post(path, new JsonObject(), alice);
            if (r.statusCode() < 400) {
                leaks.add("POST " + path + " -> " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
            }
        }
        HttpResponse<byte[]> create = post("/api/tokens/../CreateCluster", new JsonObject().put("clusterName", "sneaky"),
                alice);
        if (create.statusCode() < 400) {
            leaks.add("POST /api/tokens/../CreateCluster -> " + create.statusCode());
        }
        HttpResponse<byte[]> metrics = get("/api/tokens/../../metrics", alice);
        if (metrics.statusCode() < 400) {
            leaks.add("GET /api/tokens/../../metrics -> " + metrics.statusCode());
        }
        assertEquals(List.of(), leaks);
        assertFalse(Fixtures.json(api("ListClusters", basic("root", ROOT_PW))).getJsonArray("clusterArns")
                .contains("sneaky"));
    }

    @Test
    void endpointsWithTheirOwnProofAnswerForThemselves() {
        assertApiError(post("/api/agents/register", new JsonObject().put("joinToken", "wrong").put("hostname", "x"), null),
                401, "InvalidJoinTokenException");
        assertApiError(post("/api/hooks/registry", new JsonObject().put("events", new JsonArray()), null),
                401, "InvalidSignatureException");
        assertApiError(get("/api/agents/connect", null), 401, "InvalidAgentTokenException");
        // Only those methods: anything else on the same paths is behind authentication.
        assertApiError(get("/api/agents/register", null), 401, "UnauthorizedException");
        assertApiError(get("/api/hooks/registry", null), 401, "UnauthorizedException");
    }

    @Test
    void aCiTokenDoesAtMostWhatItNamesAndWhatItsOwnerMay() throws Exception {
        JsonObject created = createToken(basic("alice", ALICE_PW), new JsonObject().put("name", "ci")
                .put("repositories", new JsonArray().add("team/**")).put("actions", new JsonArray().add("push").add("pull")));
        String secret = created.getString("token");
        assertTrue(secret.matches("bpt\\.[0-9a-f]{12}\\.[0-9a-f]{48}"), secret);
        assertEquals(secret.split("\\.")[1], created.getString("id"));
        assertEquals("ci", created.getString("name"));
        assertEquals("alice", created.getString("owner"));
        assertEquals(new JsonArray().add("team/**"), created.getJsonArray("repositories"));
        assertEquals(new JsonArray().add("pull").add("push"), created.getJsonArray("actions"));
        assertEquals(false, created.getBoolean("api"));
        assertNull(created.getValue("expiresAt"));

        // As a password, whatever the user name: docker login -u ci -p bpt....
        String asPassword = basic("ci", secret);
        Fixtures.Image pushed = TokenAuthTest.push(c, asPassword, "team/x", "v1");
        assertEquals(200, c.get("/v2/team/x/manifests/v1", "Accept", Fixtures.OCI_MANIFEST, "Authorization",
                bearer(secret)).statusCode(), "as a bearer token");
        // Through the token endpoint: what the token names, within what alice may do.
        String jwt = TokenAuthTest.token(c, asPassword, "repository:team/y:pull,push,delete", "repository:alice/x:pull,push");
        assertEquals(Map.of("repository:team/y", List.of("pull", "push"), "repository:alice/x", List.of()),
                TokenAuthTest.access(jwt));
        TokenAuthTest.push(c, bearer(jwt), "team/y", "v1");

        // alice may push alice/x and delete in team/, the token may not.
        assertEquals(202, TokenAuthTest.startUpload(c, "alice/x", "", basic("alice", ALICE_PW)).statusCode());
        Fixtures.assertError(TokenAuthTest.startUpload(c, "alice/x", "", asPassword), 403, "DENIED");
        Fixtures.assertError(TokenAuthTest.startUpload(c, "public/x", "", asPassword), 403, "DENIED");
        String manifest = "/v2/team/x/manifests/" + pushed.digest();
        Fixtures.assertError(delete(manifest, asPassword), 403, "DENIED");
        assertEquals(202, delete(manifest, basic("alice", ALICE_PW)).statusCode());

        // Wrong or unknown tokens are refused, not taken for anonymous.
        Fixtures.assertError(TokenAuthTest.startUpload(c, "team/x", "", basic("ci", secret + "0")), 401, "UNAUTHORIZED");
        Fixtures.assertError(TokenAuthTest.startUpload(c, "team/x", "", bearer("bpt.000000000000.00")), 401, "UNAUTHORIZED");

        // The audit names the token's owner and id, and never its secret.
        String id = created.getString("id");
        List<JsonObject> lines = TokenAuthTest.awaitAudit(storage, l -> l.getString("action").equals("registry.push")
                && ("alice (token " + id + ")").equals(l.getString("actor")));
        JsonObject made = lines.stream().filter(l -> l.getString("action").equals("auth.token.create")
                && "ci".equals(l.getString("name"))).findFirst().orElseThrow();
        assertEquals("alice", made.getString("actor"));
        assertEquals(201, made.getInteger("status"));
        assertFalse(Files.readString(storage.resolve("audit.log")).contains(secret.split("\\.")[2]));
    }

    @Test
    void onlyAdminsMakeApiTokensAndThoseOpenTheApiUntilRevoked() throws Exception {
        JsonObject refused = assertApiError(post("/api/tokens", new JsonObject().put("api", true),
                basic("alice", ALICE_PW)), 403, "AccessDeniedException");
        assertEquals("api", refused.getString("field"));

        JsonObject ops = createToken(basic("root", ROOT_PW), new JsonObject().put("name", "ops").put("api", true));
        String secret = ops.getString("token");
        assertEquals(true, ops.getBoolean("api"));
        assertEquals(200, api("ListClusters", bearer(secret)).statusCode());
        assertEquals(200, api("ListClusters", basic("anyone", secret)).statusCode());
        assertEquals(200, get("/metrics", bearer(secret)).statusCode());
        // An API token cannot manage tokens: that takes a user's own password.
        JsonObject manage = assertApiError(get("/api/tokens", bearer(secret)), 403, "AccessDeniedException");
        assertEquals("CI tokens are managed with a user's own password", manage.getString("message"));
        assertApiError(post("/api/tokens", new JsonObject().put("api", true), bearer(secret)), 403, "AccessDeniedException");

        JsonObject mine = createToken(basic("alice", ALICE_PW), new JsonObject().put("name", "alice-ci")
                .put("repositories", new JsonArray().add("team/**")).put("actions", new JsonArray().add("pull")));
        assertApiError(api("ListClusters", bearer(mine.getString("token"))), 403, "AccessDeniedException");

        // alice lists her own tokens, root everyone's; secrets are never listed.
        JsonArray alices = Fixtures.json(get("/api/tokens", basic("alice", ALICE_PW))).getJsonArray("tokens");
        assertTrue(alices.stream().allMatch(t -> ((JsonObject) t).getString("owner").equals("alice")), alices.encode());
        assertTrue(alices.stream().anyMatch(t -> ((JsonObject) t).getString("id").equals(mine.getString("id"))));
        JsonArray all = Fixtures.json(get("/api/tokens", basic("root", ROOT_PW))).getJsonArray("tokens");
        assertTrue(all.stream().anyMatch(t -> ((JsonObject) t).getString("id").equals(ops.getString("id"))), all.encode());
        assertTrue(all.stream().anyMatch(t -> ((JsonObject) t).getString("id").equals(mine.getString("id"))), all.encode());
        assertFalse(all.encode().contains("bpt."), all.encode());
        assertFalse(all.encode().contains("secret"), all.encode());

        // alice cannot see, let alone revoke, root's token; root revokes it.
        assertApiError(delete("/api/tokens/" + ops.getString("id"), basic("alice", ALICE_PW)), 404, "TokenNotFoundException");
        HttpResponse<byte[]> revoked = delete("/api/tokens/" + ops.getString("id"), basic("root", ROOT_PW));
        assertEquals(200, revoked.statusCode());
        assertEquals(true, Fixtures.json(revoked).getBoolean("revoked"));
        JsonObject gone = assertApiError(api("ListClusters", bearer(secret)), 401, "UnauthorizedException");
        assertEquals("unknown, revoked or expired CI token", gone.getString("message"));
        assertApiError(delete("/api/tokens/" + ops.getString("id"), basic("root", ROOT_PW)), 404, "TokenNotFoundException");
        // Revoking one's own token.
        assertEquals(200, delete("/api/tokens/" + mine.getString("id"), basic("alice", ALICE_PW)).statusCode());
        Fixtures.assertError(c.get("/v2/team/x/tags/list", "Authorization", bearer(mine.getString("token"))),
                401, "UNAUTHORIZED");
        TokenAuthTest.awaitAudit(storage, l -> l.getString("action").equals("auth.token.revoke")
                && ops.getString("id").equals(l.getString("token")) && "root".equals(l.getString("actor")));
    }

    @Test
    void tokenRequestsAreCheckedFieldByField() throws Exception {
        String alice = basic("alice", ALICE_PW);
        JsonObject base = new JsonObject().put("repositories", new JsonArray().add("team/**"))
                .put("actions", new JsonArray().add("pull"));
        // Each request, and the field its 400 must name.
        List<Map.Entry<JsonObject, String>> cases = List.of(
                Map.entry(base.copy().put("expiresIn", "-5s"), "expiresIn"),
                Map.entry(base.copy().put("expiresIn", "0s"), "expiresIn"),
                Map.entry(base.copy().put("expiresIn", "soon"), "expiresIn"),
                Map.entry(base.copy().put("expiresIn", "3661d"), "expiresIn"),
                Map.entry(base.copy().put("repositories", new JsonArray().add("Team/X")), "repositories[0]"),
                Map.entry(base.copy().put("actions", new JsonArray().add("pull").add("admin")), "actions[1]"),
                Map.entry(new JsonObject(), "repositories"),
                Map.entry(base.copy().put("actions", new JsonArray()), "actions"),
                Map.entry(base.copy().put("name", "no/slashes"), "name"),
                Map.entry(base.copy().put("api", "yes"), "api"));
        List<String> failures = new ArrayList<>();
        for (var e : cases) {
            HttpResponse<byte[]> r = post("/api/tokens", e.getKey(), alice);
            JsonObject error = r.statusCode() == 400 ? Fixtures.json(r).getJsonObject("error") : null;
            if (error == null || !e.getValue().equals(error.getString("field"))
                    || !"InvalidParameter".equals(error.getString("code"))) {
                failures.add(e.getKey().encode() + " -> " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(List.of(), failures);
        assertApiError(c.post("/api/tokens", "{not json".getBytes(StandardCharsets.UTF_8), "Content-Type",
                "application/json", "Authorization", alice), 400, "InvalidParameter");
        assertApiError(post("/api/tokens", base, null), 401, "UnauthorizedException");

        // A token with a lifetime works until then.
        JsonObject brief = createToken(alice, base.copy().put("expiresIn", "1s"));
        Duration left = Duration.between(java.time.Instant.now(), java.time.Instant.parse(brief.getString("expiresAt")));
        assertTrue(left.toMillis() <= 1000 && left.toMillis() > -1000, left.toString());
        Thread.sleep(1100);
        assertEquals(401, c.get("/v2/team/x/tags/list", "Authorization", bearer(brief.getString("token"))).statusCode());
    }

    @Test
    void aCiTokenGrantsNothingOnceItsOwnerIsRemoved() throws Exception {
        JsonObject created = createToken(basic("dave", DAVE_PW), new JsonObject()
                .put("repositories", new JsonArray().add("team/**")).put("actions", new JsonArray().add("push").add("pull")));
        String asPassword = basic("ci", created.getString("token"));
        assertEquals(202, TokenAuthTest.startUpload(c, "team/dave", "", asPassword).statusCode());
        Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups")).remove("dave");
        await(() -> TokenAuthTest.startUpload(c, "team/dave", "", asPassword).statusCode() == 403,
                "dave's token to stop granting once dave is gone");
        Fixtures.assertError(TokenAuthTest.startUpload(c, "team/dave", "", asPassword), 403, "DENIED");
    }

    @Test
    void ciTokensSurviveARestart() throws Exception {
        Path own = tmp.resolve("storage");
        TokenAuthTest.addUsers(own, Map.of("root", ROOT_PW), Map.of("root", Set.of("admin")));
        String secret;
        String accessToken;
        try (TestRegistry first = TestRegistry.start(own, config, Map.of())) {
            RegistryClient one = first.client();
            HttpResponse<byte[]> r = one.post("/api/tokens", new JsonObject().put("api", true).encode().getBytes(),
                    "Content-Type", "application/json", "Authorization", basic("root", ROOT_PW));
            assertEquals(201, r.statusCode());
            secret = Fixtures.json(r).getString("token");
            accessToken = TokenAuthTest.token(one, basic("root", ROOT_PW), "registry:catalog:*");
        }
        try (TestRegistry second = TestRegistry.start(own, config, Map.of())) {
            RegistryClient two = second.client();
            assertEquals(200, two.post("/api/ListClusters", "{}".getBytes(), "Content-Type", "application/json",
                    "Authorization", bearer(secret)).statusCode());
            // The signing key is kept too: tokens issued before the restart still hold.
            assertEquals(200, two.get("/v2/_catalog", "Authorization", bearer(accessToken)).statusCode());
        }
    }

    // ------------------------------------------------------------------------------------------
    // The CLI

    /** What one in-process CLI run printed (this thread's output only: the server logs elsewhere). */
    private record Run(int exit, String out, String err) {
    }

    private static Run berthCli(String stdin, String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        InputStream originalIn = System.in;
        Thread self = Thread.currentThread();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(threadOnly(self, out, originalOut), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(threadOnly(self, err, originalErr), true, StandardCharsets.UTF_8));
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            int exit = new CommandLine(new Main()).execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            System.setIn(originalIn);
        }
    }

    private static OutputStream threadOnly(Thread owner, ByteArrayOutputStream mine, PrintStream others) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                if (Thread.currentThread() == owner) {
                    mine.write(b, off, len);
                } else {
                    others.write(b, off, len);
                }
            }
        };
    }

    private String[] files(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", config.toString(), "--storage", storage.toString()));
        return all.toArray(String[]::new);
    }

    @Test
    void userCommandsEditTheFilesTheRunningServerReads() throws Exception {
        Run added = berthCli("erin-password-1\n", files("user", "add", "erin", "--group", "team", "--password-stdin"));
        assertEquals(new Run(0, "added erin (groups: team)\n", ""), added);
        await(() -> tokenStatus(basic("erin", "erin-password-1")) == 200, "the server to know erin");

        Run listed = berthCli("", files("user", "ls"));
        assertEquals(0, listed.exit(), listed.toString());
        List<String> lines = listed.out().lines().map(String::strip).toList();
        assertTrue(lines.get(0).matches("NAME\\s+GROUPS"), listed.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("erin\\s+team")), listed.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("root\\s+admin")), listed.out());

        Run short_ = berthCli("short\n", files("user", "passwd", "erin", "--password-stdin"));
        assertEquals(2, short_.exit(), short_.toString());
        assertTrue(short_.err().contains("8 to 72 characters"), short_.err());
        Run empty = berthCli("", files("user", "passwd", "erin", "--password-stdin"));
        assertEquals(2, empty.exit(), empty.toString());
        assertTrue(empty.err().contains("standard input is empty"), empty.err());
        Run noTerminal = berthCli("", files("user", "passwd", "erin"));
        assertEquals(2, noTerminal.exit(), noTerminal.toString());
        assertTrue(noTerminal.err().contains("use --password-stdin"), noTerminal.err());
        Run nobody = berthCli("whatever-pw-1\n", files("user", "passwd", "nobody", "--password-stdin"));
        assertEquals(1, nobody.exit(), nobody.toString());
        assertTrue(nobody.err().contains("no user nobody"), nobody.err());
        Run badName = berthCli("whatever-pw-1\n", files("user", "add", "bad name", "--password-stdin"));
        assertEquals(2, badName.exit(), badName.toString());
        assertTrue(badName.err().contains("'bad name' is not a valid user name"), badName.err());

        Run passwd = berthCli("erin-password-2\n", files("user", "passwd", "erin", "--password-stdin"));
        assertEquals(0, passwd.exit(), passwd.toString());
        assertEquals("password of erin changed; their refresh tokens no longer work\n", passwd.out());
        await(() -> tokenStatus(basic("erin", "erin-password-2")) == 200, "the new password to work");
        assertEquals(401, tokenStatus(basic("erin", "erin-password-1")));

        Run groups = berthCli("", files("user", "groups", "erin", "admin", "ops"));
        assertEquals(new Run(0, "erin: admin, ops\n", ""), groups);
        await(() -> api("ListClusters", basic("erin", "erin-password-2")).statusCode() == 200, "erin to be an admin");

        Run removed = berthCli("", files("user", "rm", "erin"));
        assertEquals(new Run(0, "removed erin; their CI tokens no longer grant anything\n", ""), removed);
        Run again = berthCli("", files("user", "rm", "erin"));
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("no user erin"), again.err());
        await(() -> tokenStatus(basic("erin", "erin-password-2")) == 401, "erin to be gone");
        assertFalse(Files.readString(storage.resolve("auth/groups")).contains("erin"));
    }

    /** {@code berth ARGS…} in a JVM of its own, for what only the environment can pass ($BERTH_PASSWORD). */
    private Run berthProcess(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("BERTH_TOKEN");
        pb.environment().remove("BERTH_USER");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("berth " + String.join(" ", args) + " did not finish");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void tokenCommandsSignInWithTheUsersPassword() throws Exception {
        Map<String, String> env = Map.of("BERTH_PASSWORD", ALICE_PW);
        String server = berth.baseUrl();
        Run created = berthProcess(env, "token", "create", "--server", server, "--user", "alice", "--repo", "team/**",
                "--push", "--pull", "--name", "from-cli", "--expires", "30d");
        assertEquals(0, created.exit(), created.toString());
        String secret = created.out().strip();
        assertTrue(secret.matches("bpt\\.[0-9a-f]{12}\\.[0-9a-f]{48}"), created.toString());
        String id = secret.split("\\.")[1];
        assertTrue(created.err().contains("token " + id + " made"), created.err());
        assertEquals(202, TokenAuthTest.startUpload(c, "team/cli", "", basic("ci", secret)).statusCode());

        Run listed = berthProcess(env, "token", "ls", "--server", server, "--user", "alice", "-o", "json");
        assertEquals(0, listed.exit(), listed.toString());
        JsonObject token = new JsonObject(listed.out()).getJsonArray("tokens").stream().map(o -> (JsonObject) o)
                .filter(t -> t.getString("id").equals(id)).findFirst().orElseThrow();
        assertEquals("from-cli", token.getString("name"));
        assertEquals(new JsonArray().add("pull").add("push"), token.getJsonArray("actions"));
        assertNotNull(token.getString("expiresAt"));

        Run wrong = berthProcess(Map.of("BERTH_PASSWORD", "not-alices"), "token", "ls", "--server", server,
                "--user", "alice");
        assertEquals(1, wrong.exit(), wrong.toString());
        assertTrue(wrong.err().contains("wrong user name or password"), wrong.err());

        Run removed = berthProcess(env, "token", "rm", id, "--server", server, "--user", "alice");
        assertEquals(new Run(0, "revoked " + id + "\n", ""), removed);
        Fixtures.assertError(TokenAuthTest.startUpload(c, "team/cli", "", basic("ci", secret)), 401, "UNAUTHORIZED");

        // In-process: without credentials the CLI says how to sign in; an API token is not enough for tokens.
        Run anonymous = berthCli("", "token", "ls", "--server", server);
        assertEquals(1, anonymous.exit(), anonymous.toString());
        assertTrue(anonymous.err().contains("sign in with --user and $BERTH_PASSWORD, or --token"), anonymous.err());
        String apiToken = createToken(basic("root", ROOT_PW), new JsonObject().put("api", true)).getString("token");
        Run viaToken = berthCli("", "token", "ls", "--server", server, "--token", apiToken);
        assertEquals(1, viaToken.exit(), viaToken.toString());
        assertTrue(viaToken.err().contains("CI tokens are managed with a user's own password"), viaToken.err());
        Run clusters = berthCli("", "cluster", "ls", "--server", server, "--token", apiToken, "-o", "json");
        assertEquals(0, clusters.exit(), clusters.toString());
        assertNotNull(new JsonObject(clusters.out()).getJsonArray("clusters"));
    }
}
