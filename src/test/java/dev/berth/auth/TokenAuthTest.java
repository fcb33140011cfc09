package dev.berth.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker token authentication against a real server: the challenge on {@code /v2/}, the token
 * endpoint's grants (what was asked for, cut down to what the rules allow), pushes and pulls with
 * bearer tokens, 401 versus 403, refresh tokens that end with a password change, tokens that are
 * forged, expired or for someone else, and cross-repository mounts. A smaller server checks
 * {@code auth.mode: basic}.
 *
 * <p>Users: root (group admin), alice and carol (group team), bob (no group). Rules: the team may
 * pull and push {@code team/**}; anyone may pull {@code public/**}.
 */
@Timeout(60)
class TokenAuthTest {
    private static final String ROOT_PW = "root-password-1";
    private static final String ALICE_PW = "alice-password-1";
    private static final String BOB_PW = "bob-password-1";
    private static final String CAROL_PW = "carol-password-1";
    private static final String RULES = """
            auth:
              mode: token
              rules:
                - repositories: ["team/**"]
                  groups: [team]
                  actions: [pull, push]
                - repositories: ["public/**"]
                  anonymous: true
                  actions: [pull]
            """;

    @TempDir
    static Path dir;
    @TempDir
    Path tmp;

    private static Path storage;
    private static TestRegistry berth;
    private static RegistryClient c;
    /** An image root pushed to team/app:v1 before any test. */
    private static Fixtures.Image teamApp;

    @BeforeAll
    static void start() throws Exception {
        storage = dir.resolve("storage");
        addUsers(storage, Map.of("root", ROOT_PW, "alice", ALICE_PW, "bob", BOB_PW, "carol", CAROL_PW),
                Map.of("root", Set.of("admin"), "alice", Set.of("team"), "carol", Set.of("team")));
        Path config = dir.resolve("berth.yaml");
        Files.writeString(config, RULES);
        berth = TestRegistry.start(storage, config, Map.of());
        c = berth.client();
        teamApp = push(c, basic("root", ROOT_PW), "team/app", "v1");
    }

    @AfterAll
    static void stop() {
        if (berth != null) {
            berth.close();
        }
    }

    static void addUsers(Path storage, Map<String, String> passwords, Map<String, Set<String>> groups) throws Exception {
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        for (var e : passwords.entrySet()) {
            users.setPassword(e.getKey(), e.getValue());
        }
        for (var e : groups.entrySet()) {
            users.setGroups(e.getKey(), e.getValue());
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static String bearer(String token) {
        return "Bearer " + token;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** GET /auth/token with optional credentials and scopes. */
    static HttpResponse<byte[]> tokenRequest(RegistryClient c, String authorization, String query, String... scopes) {
        StringBuilder q = new StringBuilder("/auth/token?service=berth");
        for (String s : scopes) {
            q.append("&scope=").append(enc(s));
        }
        if (!query.isEmpty()) {
            q.append('&').append(query);
        }
        return authorization == null ? c.get(q.toString()) : c.get(q.toString(), "Authorization", authorization);
    }

    /** An access token from GET /auth/token; fails unless the answer is 200. */
    static String token(RegistryClient c, String authorization, String... scopes) {
        HttpResponse<byte[]> r = tokenRequest(c, authorization, "", scopes);
        RegistryClient.expect(r, 200);
        return Fixtures.json(r).getString("token");
    }

    /** POST /auth/token with a form. */
    static HttpResponse<byte[]> oauth(RegistryClient c, Map<String, String> form) {
        String body = form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        return c.post("/auth/token", body.getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/x-www-form-urlencoded");
    }

    static JsonObject payload(String jwt) {
        return new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
    }

    /** A token's {@code access} claim as "type:name" → sorted actions. */
    static Map<String, List<Object>> access(String jwt) {
        Map<String, List<Object>> out = new LinkedHashMap<>();
        for (Object o : payload(jwt).getJsonArray("access", new JsonArray())) {
            JsonObject a = (JsonObject) o;
            out.put(a.getString("type") + ":" + a.getString("name"), a.getJsonArray("actions").getList());
        }
        return out;
    }

    static HttpResponse<byte[]> get(String path, String authorization) {
        return authorization == null ? c.get(path) : c.get(path, "Authorization", authorization);
    }

    static HttpResponse<byte[]> startUpload(RegistryClient c, String repo, String query, String authorization) {
        String path = "/v2/" + repo + "/blobs/uploads/" + (query.isEmpty() ? "" : "?" + query);
        return authorization == null ? c.post(path, new byte[0]) : c.post(path, new byte[0], "Authorization", authorization);
    }

    /** Pushes a blob (POST + PUT) with the given credentials; fails unless it is created. */
    static String pushBlob(RegistryClient c, String authorization, String repo, byte[] content) {
        HttpResponse<byte[]> start = startUpload(c, repo, "", authorization);
        RegistryClient.expect(start, 202);
        String location = start.headers().firstValue("Location").orElseThrow();
        String digest = RegistryClient.sha256(content);
        RegistryClient.expect(c.put(RegistryClient.withQuery(location, "digest=" + digest), content,
                "Content-Type", "application/octet-stream", "Authorization", authorization), 201);
        return digest;
    }

    /** Pushes a one-layer OCI image with the given credentials. */
    static Fixtures.Image push(RegistryClient c, String authorization, String repo, String tag) {
        byte[] config = new JsonObject().put("architecture", "amd64").put("os", "linux").encode()
                .getBytes(StandardCharsets.UTF_8);
        byte[] layer = Fixtures.randomBytes(1500);
        String configDigest = pushBlob(c, authorization, repo, config);
        String layerDigest = pushBlob(c, authorization, repo, layer);
        byte[] manifest = new JsonObject().put("schemaVersion", 2).put("mediaType", Fixtures.OCI_MANIFEST)
                .put("config", Fixtures.descriptor(Fixtures.OCI_CONFIG, configDigest, config.length))
                .put("layers", new JsonArray().add(Fixtures.descriptor(Fixtures.OCI_LAYER, layerDigest, layer.length)))
                .encode().getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = c.put("/v2/" + repo + "/manifests/" + tag, manifest,
                "Content-Type", Fixtures.OCI_MANIFEST, "Authorization", authorization);
        RegistryClient.expect(r, 201);
        return new Fixtures.Image(repo, RegistryClient.sha256(manifest), manifest, Fixtures.OCI_MANIFEST, configDigest,
                List.of(layerDigest));
    }

    private static String challenge(HttpResponse<byte[]> r) {
        return r.headers().firstValue("WWW-Authenticate").orElse(null);
    }

    private static String realm() {
        return "Bearer realm=\"" + berth.baseUrl() + "/auth/token\",service=\"berth\"";
    }

    /** The audit log's lines once one matches (it is written by a background thread). */
    static List<JsonObject> awaitAudit(Path storage, Predicate<JsonObject> wanted) throws Exception {
        Path file = storage.resolve("audit.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<JsonObject> lines = List.of();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(JsonObject::new).toList();
                if (lines.stream().anyMatch(wanted)) {
                    return lines;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no such audit line in " + lines);
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void requestsWithoutCredentialsGetABearerChallengeForWhatTheyNeed() {
        HttpResponse<byte[]> base = get("/v2/", null);
        Fixtures.assertError(base, 401, "UNAUTHORIZED");
        assertEquals(realm(), challenge(base));

        HttpResponse<byte[]> pull = get("/v2/team/app/manifests/v1", null);
        JsonObject error = Fixtures.assertError(pull, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/app:pull\"", challenge(pull));
        assertEquals(new JsonArray().add(new JsonObject().put("Type", "repository").put("Class", "")
                .put("Name", "team/app").put("Action", "pull")), error.getJsonArray("detail"));

        HttpResponse<byte[]> upload = startUpload(c, "team/app", "", null);
        Fixtures.assertError(upload, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/app:pull,push\"", challenge(upload), "pushing asks for pull too");

        HttpResponse<byte[]> delete = c.delete("/v2/team/app/manifests/v1");
        Fixtures.assertError(delete, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/app:delete\"", challenge(delete));

        HttpResponse<byte[]> catalog = get("/v2/_catalog", null);
        Fixtures.assertError(catalog, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"registry:catalog:*\"", challenge(catalog));

        // The realm follows the address the client used.
        HttpResponse<byte[]> viaLocalhost = c.get("http://localhost:" + berth.port() + "/v2/");
        assertEquals(401, viaLocalhost.statusCode());
        assertEquals("Bearer realm=\"http://localhost:" + berth.port() + "/auth/token\",service=\"berth\"",
                challenge(viaLocalhost));

        // Any valid credentials open /v2/ itself: an anonymous token, a password.
        assertEquals(200, get("/v2/", bearer(token(c, null))).statusCode());
        assertEquals(200, get("/v2/", basic("bob", BOB_PW)).statusCode());
    }

    @Test
    void theTokenEndpointGrantsWhatWasAskedForAsFarAsTheRulesAllow() {
        HttpResponse<byte[]> r = tokenRequest(c, basic("alice", ALICE_PW), "", "repository:team/app:pull,push,delete",
                "repository:other/x:pull", "registry:catalog:*", "repository(plugin):team/plugin:pull");
        RegistryClient.expect(r, 200);
        assertEquals("no-store", Fixtures.header(r, "Cache-Control"));
        JsonObject body = Fixtures.json(r);
        String token = body.getString("token");
        assertEquals(token, body.getString("access_token"));
        assertEquals(300, body.getInteger("expires_in"));
        assertTrue(Duration.between(Instant.parse(body.getString("issued_at")), Instant.now()).abs().getSeconds() < 60);
        assertNull(body.getValue("refresh_token"), "no refresh token unless asked for");
        Map<String, List<Object>> expected = new LinkedHashMap<>();
        expected.put("repository:team/app", List.of("pull", "push"));
        expected.put("repository:other/x", List.of());
        expected.put("registry:catalog", List.of());
        expected.put("repository:team/plugin", List.of("pull"));
        assertEquals(expected, access(token));
        JsonObject claims = payload(token);
        assertEquals("alice", claims.getString("sub"));
        assertEquals("berth", claims.getString("iss"));
        assertEquals(claims.getLong("iat") + 300, claims.getLong("exp"));

        assertEquals(Map.of("repository:public/base", List.of("pull"), "repository:team/app", List.of()),
                access(token(c, null, "repository:public/base:pull,push", "repository:team/app:pull")),
                "anonymous clients get what anonymous rules allow");
        assertEquals("", payload(token(c, null)).getString("sub"));
        assertEquals(Map.of("repository:anything/at/all", List.of("delete", "pull", "push"),
                        "registry:catalog", List.of("*")),
                access(token(c, basic("root", ROOT_PW), "repository:anything/at/all:*", "registry:catalog:*")));
        assertEquals(Map.of("repository:team/app", List.of()), access(token(c, basic("bob", BOB_PW),
                "repository:team/app:pull,push")));

        HttpResponse<byte[]> offline = tokenRequest(c, basic("alice", ALICE_PW), "offline_token=true",
                "repository:team/app:pull");
        RegistryClient.expect(offline, 200);
        assertEquals("refresh", payload(Fixtures.json(offline).getString("refresh_token")).getString("use"));

        HttpResponse<byte[]> otherService = c.get("/auth/token?service=elsewhere&scope=repository:team/app:pull",
                "Authorization", basic("alice", ALICE_PW));
        assertEquals(400, otherService.statusCode());
        JsonObject err = Fixtures.json(otherService).getJsonArray("errors").getJsonObject(0);
        assertEquals("UNSUPPORTED", err.getString("code"));
        assertTrue(err.getString("message").contains("elsewhere"), err.encode());
    }

    @Test
    void theTeamPushesWithABearerTokenAndOthersAreDenied() throws Exception {
        String alice = token(c, basic("alice", ALICE_PW), "repository:team/app:pull,push");
        Fixtures.Image image = push(c, bearer(alice), "team/app", "alice");
        HttpResponse<byte[]> pulled = c.get("/v2/team/app/manifests/alice", "Accept", Fixtures.OCI_MANIFEST,
                "Authorization", bearer(alice));
        assertEquals(200, pulled.statusCode());
        assertEquals(image.digest(), Fixtures.header(pulled, "Docker-Content-Digest"));
        assertEquals(200, get("/v2/team/app/blobs/" + image.layerDigests().get(0), bearer(alice)).statusCode());

        // bob: signed in, but no rule gives him team/app: 403, whatever way he signs in.
        String bob = token(c, basic("bob", BOB_PW), "repository:team/app:pull,push");
        Fixtures.assertError(startUpload(c, "team/app", "", bearer(bob)), 403, "DENIED");
        Fixtures.assertError(get("/v2/team/app/manifests/v1", bearer(bob)), 403, "DENIED");
        Fixtures.assertError(startUpload(c, "team/app", "", basic("bob", BOB_PW)), 403, "DENIED");

        // alice's token says nothing about team/other: the challenge, so the client fetches a token for it.
        HttpResponse<byte[]> other = startUpload(c, "team/other", "", bearer(alice));
        Fixtures.assertError(other, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/other:pull,push\",error=\"insufficient_scope\"", challenge(other));
        // A token with pull only on team/app cannot push there: it mentions the repository, so 403.
        String pullOnly = token(c, basic("alice", ALICE_PW), "repository:team/app:pull");
        Fixtures.assertError(startUpload(c, "team/app", "", bearer(pullOnly)), 403, "DENIED");
        Fixtures.assertError(c.put("/v2/team/app/manifests/x", image.manifest(), "Content-Type", Fixtures.OCI_MANIFEST,
                "Authorization", bearer(pullOnly)), 403, "DENIED");
        assertEquals(200, c.get("/v2/team/app/manifests/alice", "Accept", Fixtures.OCI_MANIFEST,
                "Authorization", bearer(pullOnly)).statusCode());
        // Nobody but admins may delete here, alice included.
        String withDelete = token(c, basic("alice", ALICE_PW), "repository:team/app:delete");
        assertEquals(Map.of("repository:team/app", List.of()), access(withDelete));
        Fixtures.assertError(c.send(c.request("/v2/team/app/manifests/" + image.digest()).DELETE()
                .header("Authorization", bearer(withDelete)).build()), 403, "DENIED");

        // The push is audited under alice's name.
        List<JsonObject> audit = awaitAudit(storage, l -> l.getString("action").equals("registry.push")
                && "alice".equals(l.getString("reference")));
        JsonObject line = audit.stream().filter(l -> "alice".equals(l.getString("reference"))).findFirst().orElseThrow();
        assertEquals("alice", line.getString("actor"));
        assertEquals("ok", line.getString("outcome"));
    }

    @Test
    void anonymousClientsPullPublicRepositoriesOnly() {
        String root = token(c, basic("root", ROOT_PW), "repository:public/base:pull,push");
        Fixtures.Image base = push(c, bearer(root), "public/base", "v1");

        String anonymous = token(c, null, "repository:public/base:pull");
        HttpResponse<byte[]> pulled = c.get("/v2/public/base/manifests/v1", "Accept", Fixtures.OCI_MANIFEST,
                "Authorization", bearer(anonymous));
        assertEquals(200, pulled.statusCode());
        assertEquals(base.digest(), Fixtures.header(pulled, "Docker-Content-Digest"));
        assertEquals(200, get("/v2/public/base/blobs/" + base.configDigest(), bearer(anonymous)).statusCode());
        assertEquals(200, get("/v2/public/base/tags/list", null).statusCode(), "the anonymous rule needs no token at all");

        // Pushing: what an anonymous token lacks, signing in might give, so the challenge (not 403).
        HttpResponse<byte[]> pushWithToken = startUpload(c, "public/base", "", bearer(anonymous));
        Fixtures.assertError(pushWithToken, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:public/base:pull,push\",error=\"insufficient_scope\"",
                challenge(pushWithToken));
        HttpResponse<byte[]> push = startUpload(c, "public/base", "", null);
        Fixtures.assertError(push, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:public/base:pull,push\"", challenge(push));

        HttpResponse<byte[]> team = get("/v2/team/app/manifests/v1", null);
        Fixtures.assertError(team, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/app:pull\"", challenge(team));
        String refused = token(c, null, "repository:team/app:pull");
        HttpResponse<byte[]> withToken = get("/v2/team/app/manifests/v1", bearer(refused));
        Fixtures.assertError(withToken, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"repository:team/app:pull\",error=\"insufficient_scope\"", challenge(withToken));
        // A signed-in user's token that was refused team/app: signing in again would not help, so 403.
        Fixtures.assertError(get("/v2/team/app/manifests/v1", bearer(token(c, basic("bob", BOB_PW),
                "repository:team/app:pull"))), 403, "DENIED");
    }

    @Test
    void theCatalogIsForAdminsOnly() {
        String root = token(c, basic("root", ROOT_PW), "registry:catalog:*");
        HttpResponse<byte[]> listed = get("/v2/_catalog", bearer(root));
        assertEquals(200, listed.statusCode());
        assertTrue(Fixtures.json(listed).getJsonArray("repositories").contains("team/app"), Fixtures.json(listed).encode());
        assertEquals(200, get("/v2/_catalog", basic("root", ROOT_PW)).statusCode());

        String alice = token(c, basic("alice", ALICE_PW), "registry:catalog:*");
        assertEquals(Map.of("registry:catalog", List.of()), access(alice));
        Fixtures.assertError(get("/v2/_catalog", bearer(alice)), 403, "DENIED");
        Fixtures.assertError(get("/v2/_catalog", basic("alice", ALICE_PW)), 403, "DENIED");
        HttpResponse<byte[]> noEntry = get("/v2/_catalog", bearer(token(c, basic("alice", ALICE_PW),
                "repository:team/app:pull")));
        Fixtures.assertError(noEntry, 401, "UNAUTHORIZED");
        assertEquals(realm() + ",scope=\"registry:catalog:*\",error=\"insufficient_scope\"", challenge(noEntry));
    }

    @Test
    void refreshTokensWorkUntilThePasswordChanges() throws Exception {
        Map<String, String> login = new LinkedHashMap<>(Map.of("grant_type", "password", "username", "carol",
                "password", CAROL_PW, "service", "berth", "client_id", "docker", "access_type", "offline",
                "scope", "repository:team/app:pull"));
        HttpResponse<byte[]> r = oauth(c, login);
        RegistryClient.expect(r, 200);
        JsonObject body = Fixtures.json(r);
        assertEquals("repository:team/app:pull", body.getString("scope"));
        assertEquals(Map.of("repository:team/app", List.of("pull")), access(body.getString("access_token")));
        String refresh = body.getString("refresh_token");
        assertNotNull(refresh, body.encode());
        assertEquals("carol", payload(refresh).getString("sub"));

        login.remove("access_type");
        assertNull(Fixtures.json(oauth(c, login)).getValue("refresh_token"), "online logins get no refresh token");

        Map<String, String> renew = Map.of("grant_type", "refresh_token", "refresh_token", refresh, "service", "berth",
                "client_id", "docker", "scope", "repository:team/app:pull,push");
        HttpResponse<byte[]> renewed = oauth(c, renew);
        RegistryClient.expect(renewed, 200);
        assertEquals(Map.of("repository:team/app", List.of("pull", "push")),
                access(Fixtures.json(renewed).getString("access_token")));
        assertEquals("repository:team/app:pull,push", Fixtures.json(renewed).getString("scope"));

        // Other tokens are no refresh tokens; other grants are not supported.
        Map<String, String> wrongKind = new LinkedHashMap<>(renew);
        wrongKind.put("refresh_token", body.getString("access_token"));
        assertEquals(401, oauth(c, wrongKind).statusCode());
        assertEquals(401, oauth(c, Map.of("grant_type", "refresh_token", "service", "berth")).statusCode());
        HttpResponse<byte[]> unsupported = oauth(c, Map.of("grant_type", "client_credentials", "service", "berth"));
        assertEquals(400, unsupported.statusCode());
        assertEquals("unsupported_grant_type", Fixtures.json(unsupported).getString("error"));

        // A new password (the server reads the users file again within seconds) ends the refresh token.
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        users.setPassword("carol", "carol-password-2");
        long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        HttpResponse<byte[]> after = oauth(c, renew);
        while (after.statusCode() == 200 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            after = oauth(c, renew);
        }
        assertEquals(401, after.statusCode(), "the refresh token still works after the password change");
        JsonObject error = Fixtures.json(after).getJsonArray("errors").getJsonObject(0);
        assertEquals("UNAUTHORIZED", error.getString("code"));
        assertTrue(error.getString("message").contains("password changed"), error.encode());
        assertEquals(401, oauth(c, Map.of("grant_type", "password", "username", "carol", "password", CAROL_PW,
                "service", "berth")).statusCode());
        assertEquals(200, oauth(c, Map.of("grant_type", "password", "username", "carol", "password",
                "carol-password-2", "service", "berth")).statusCode());
    }

    @Test
    void wrongPasswordsGet401AndAreAudited() throws Exception {
        String wrong = "not-alices-password-7";
        HttpResponse<byte[]> r = tokenRequest(c, basic("alice", wrong), "", "repository:team/app:pull");
        assertEquals(401, r.statusCode());
        assertEquals("Basic realm=\"berth\"", challenge(r));
        JsonObject error = Fixtures.json(r).getJsonArray("errors").getJsonObject(0);
        assertEquals("UNAUTHORIZED", error.getString("code"));
        assertEquals("wrong user name or password", error.getString("message"));
        assertEquals(401, tokenRequest(c, basic("nobody", wrong), "").statusCode());
        assertEquals(401, oauth(c, Map.of("grant_type", "password", "username", "alice", "password", wrong,
                "service", "berth")).statusCode());
        // At /v2/ too: wrong credentials are never taken for anonymous, not even where anonymous may pull.
        HttpResponse<byte[]> v2 = get("/v2/public/base/tags/list", basic("alice", wrong));
        Fixtures.assertError(v2, 401, "UNAUTHORIZED");
        assertTrue(challenge(v2).endsWith(",error=\"invalid_token\""), challenge(v2));

        token(c, basic("alice", ALICE_PW), "repository:team/app:pull");
        List<JsonObject> lines = awaitAudit(storage, l -> l.getString("action").equals("auth.login")
                && l.getString("outcome").equals("refused") && "alice".equals(l.getString("actor"))
                && "get".equals(l.getString("grant")));
        JsonObject refused = lines.stream().filter(l -> l.getString("action").equals("auth.login")
                && l.getString("outcome").equals("refused") && "alice".equals(l.getString("actor"))
                && "get".equals(l.getString("grant"))).findFirst().orElseThrow();
        assertEquals("wrong user name or password", refused.getString("reason"));
        assertTrue(refused.getString("remote").startsWith("127.0.0.1:"), refused.encode());
        assertEquals(new JsonArray().add("repository:team/app:pull"), refused.getJsonArray("scopes"));
        awaitAudit(storage, l -> l.getString("action").equals("auth.login") && l.getString("outcome").equals("ok")
                && "alice".equals(l.getString("actor")));
        awaitAudit(storage, l -> l.getString("action").equals("auth.login") && l.getString("outcome").equals("refused")
                && "/v2/public/base/tags/list".equals(l.getString("path")));
        String text = Files.readString(storage.resolve("audit.log"));
        assertFalse(text.contains(wrong), "a password in the audit log");
        assertFalse(text.contains(ALICE_PW), "a password in the audit log");
    }

    @Test
    void forgedExpiredAndMisdirectedTokensAreRefused() throws Exception {
        Path pki = storage.resolve("pki");
        List<Principal.Grant> pull = List.of(new Principal.Grant("repository", "team/app", Set.of("pull")));
        String path = "/v2/team/app/manifests/v1";
        // Control: the real thing, and a token made by hand with the server's key and the right claims.
        assertEquals(200, get(path, bearer(token(c, basic("alice", ALICE_PW), "repository:team/app:pull"))).statusCode());
        assertEquals(200, get(path, bearer(AuthUnitTest.HandMadeTokens.access(pki, "berth", "alice", Instant.now(),
                Duration.ofMinutes(5), pull))).statusCode());

        String real = token(c, basic("alice", ALICE_PW), "repository:team/app:pull");
        String[] parts = real.split("\\.");
        String widened = payload(real).put("access", new JsonArray().add(new JsonObject().put("type", "repository")
                .put("name", "team/app").put("actions", new JsonArray().add("pull").add("push").add("delete")))).encode();
        String b64 = Base64.getUrlEncoder().withoutPadding().encodeToString(widened.getBytes(StandardCharsets.UTF_8));
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("widened claims", parts[0] + "." + b64 + "." + parts[2]);
        bad.put("alg none", Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "." + b64 + ".");
        bad.put("expired", AuthUnitTest.HandMadeTokens.access(pki, "berth", "alice", Instant.now().minusSeconds(3600),
                Duration.ofMinutes(5), pull));
        bad.put("other audience", AuthUnitTest.HandMadeTokens.access(pki, "other-registry", "alice", Instant.now(),
                Duration.ofMinutes(5), pull));
        bad.put("other key", TokenService.loadOrCreate(tmp.resolve("pki"), "berth", Clock.systemUTC())
                .issueAccess("alice", pull, Duration.ofMinutes(5)));
        bad.put("refresh token", Fixtures.json(tokenRequest(c, basic("alice", ALICE_PW), "offline_token=true"))
                .getString("refresh_token"));
        bad.put("garbage", "not-a-token");
        List<String> failures = new ArrayList<>();
        for (var e : bad.entrySet()) {
            HttpResponse<byte[]> r = get(path, bearer(e.getValue()));
            String header = challenge(r);
            if (r.statusCode() != 401 || header == null || !header.equals(realm()
                    + ",scope=\"repository:team/app:pull\",error=\"invalid_token\"")) {
                failures.add(e.getKey() + ": " + r.statusCode() + " " + header);
            } else {
                Fixtures.assertError(r, 401, "UNAUTHORIZED");
            }
        }
        assertEquals(List.of(), failures);
        // The forged push token does not push either.
        Fixtures.assertError(startUpload(c, "team/app", "", bearer(bad.get("widened claims"))), 401, "UNAUTHORIZED");
    }

    @Test
    void aMountFromARepositoryTheClientCannotPullBecomesAnUploadSession() {
        String root = basic("root", ROOT_PW);
        String secret = pushBlob(c, root, "private/secret", Fixtures.randomBytes(700));
        String alice = token(c, basic("alice", ALICE_PW), "repository:team/mounted:pull,push",
                "repository:private/secret:pull", "repository:team/app:pull");
        assertEquals(List.of(), access(alice).get("repository:private/secret"));

        HttpResponse<byte[]> refused = startUpload(c, "team/mounted", "mount=" + secret + "&from=private/secret", bearer(alice));
        assertEquals(202, refused.statusCode(), new String(refused.body(), StandardCharsets.UTF_8));
        assertTrue(Fixtures.header(refused, "Location").startsWith("/v2/team/mounted/blobs/uploads/"),
                Fixtures.header(refused, "Location"));
        assertEquals(404, c.head("/v2/team/mounted/blobs/" + secret, "Authorization", bearer(alice)).statusCode(),
                "the secret blob must not be reachable through team/mounted");
        HttpResponse<byte[]> noFrom = startUpload(c, "team/mounted", "mount=" + secret, bearer(alice));
        assertEquals(202, noFrom.statusCode(), "a mount without from is for admins only");
        assertEquals(404, c.head("/v2/team/mounted/blobs/" + secret, "Authorization", bearer(alice)).statusCode());

        // Control: from a repository alice may pull, the mount happens.
        String layer = teamApp.layerDigests().get(0);
        HttpResponse<byte[]> mounted = startUpload(c, "team/mounted", "mount=" + layer + "&from=team/app", bearer(alice));
        assertEquals(201, mounted.statusCode(), new String(mounted.body(), StandardCharsets.UTF_8));
        assertEquals("/v2/team/mounted/blobs/" + layer, Fixtures.header(mounted, "Location"));
        assertEquals(200, c.head("/v2/team/mounted/blobs/" + layer, "Authorization", bearer(alice)).statusCode());
        // An admin's password mounts without from.
        HttpResponse<byte[]> admin = startUpload(c, "team/mounted", "mount=" + secret, root);
        assertEquals(201, admin.statusCode(), new String(admin.body(), StandardCharsets.UTF_8));
    }

    /**
     * The router matches requests on their normalized path (dot segments removed, {@code %2e}
     * decoded): authorization must decide on that same path, or {@code ..} leads around it.
     */
    @Test
    void dotSegmentsDoNotLeadAroundTheRules() {
        String manifest = new String(teamApp.manifest(), StandardCharsets.UTF_8);
        List<String> leaks = new ArrayList<>();
        for (String path : List.of("/v2/public/../team/app/manifests/v1", "/v2/public/%2e%2e/team/app/manifests/v1",
                "/v2/public/x/../../team/app/blobs/" + teamApp.configDigest(), "/x/../v2/team/app/manifests/v1",
                "/api/../v2/team/app/manifests/v1")) {
            HttpResponse<byte[]> r = c.get(path, "Accept", Fixtures.OCI_MANIFEST);
            if (r.statusCode() < 400 || new String(r.body(), StandardCharsets.UTF_8).contains(manifest)) {
                leaks.add("anonymous GET " + path + " -> " + r.statusCode());
            }
        }
        // Writes: anonymously anywhere, and alice (push on team/**) outside team/.
        byte[] content = Fixtures.randomBytes(300);
        String digest = RegistryClient.sha256(content);
        Map<String, String> writes = new LinkedHashMap<>();
        writes.put("/x/../v2/private/anon/blobs/uploads/?digest=" + digest, null);
        writes.put("/v2/public/../private/anon2/blobs/uploads/?digest=" + digest, null);
        writes.put("/v2/team/../private/alice/blobs/uploads/?digest=" + digest, basic("alice", ALICE_PW));
        for (var w : writes.entrySet()) {
            HttpResponse<byte[]> r = w.getValue() == null ? c.post(w.getKey(), content)
                    : c.post(w.getKey(), content, "Authorization", w.getValue());
            if (r.statusCode() < 400) {
                leaks.add((w.getValue() == null ? "anonymous" : "alice") + " POST " + w.getKey() + " -> " + r.statusCode());
            }
        }
        String root = basic("root", ROOT_PW);
        for (String repo : List.of("private/anon", "private/anon2", "private/alice")) {
            if (c.head("/v2/" + repo + "/blobs/" + digest, "Authorization", root).statusCode() != 404) {
                leaks.add("a blob landed in " + repo);
            }
        }
        assertEquals(List.of(), leaks);
    }

    @Test
    void escapedSlashesDoNotStretchAGlob() throws Exception {
        Path st = tmp.resolve("escapes");
        addUsers(st, Map.of("bob", BOB_PW, "root", ROOT_PW), Map.of("root", Set.of("admin")));
        Path config = tmp.resolve("escapes.yaml");
        Files.writeString(config, """
                auth:
                  mode: token
                  rules:
                    - repositories: ["open/*"]
                      users: ["*"]
                      actions: [pull, push]
                """);
        try (TestRegistry server = TestRegistry.start(st, config, Map.of())) {
            RegistryClient b = server.client();
            byte[] content = Fixtures.randomBytes(100);
            String digest = RegistryClient.sha256(content);
            String bob = basic("bob", BOB_PW);
            // open/a is what the glob covers; open/a/b (however it is spelled) is not.
            assertEquals(201, b.post("/v2/open/a/blobs/uploads/?digest=" + digest, content, "Authorization", bob)
                    .statusCode());
            Fixtures.assertError(b.post("/v2/open/a%2Fb/blobs/uploads/?digest=" + digest, content, "Authorization", bob),
                    403, "DENIED");
            Fixtures.assertError(b.post("/v2/open%2Fa%2Fb/blobs/uploads/?digest=" + digest, content, "Authorization", bob),
                    403, "DENIED");
            // Nor does a token for the escaped name grant anything.
            String t = token(b, bob, "repository:open/a%2Fb:pull,push");
            assertEquals(Map.of("repository:open/a%2Fb", List.of()), access(t));
            HttpResponse<byte[]> r = b.post("/v2/open/a%2Fb/blobs/uploads/?digest=" + digest, content,
                    "Authorization", bearer(t));
            assertTrue(r.statusCode() == 401 || r.statusCode() == 403, "status " + r.statusCode());
            assertEquals(404, b.head("/v2/open/a/b/blobs/" + digest, "Authorization", basic("root", ROOT_PW)).statusCode(),
                    "nothing landed in open/a/b");
            assertEquals(200, b.head("/v2/open/a/blobs/" + digest, "Authorization", basic("root", ROOT_PW)).statusCode());
        }
    }

    @Test
    void theTokenEndpointTakesPasswordsNotItsOwnTokensAndFewScopes() {
        String alice = basic("alice", ALICE_PW);
        String t = token(c, alice, "repository:team/app:pull");
        // An access token cannot buy a fresh one (access would outlive a removed user or revoked token).
        Fixtures.assertError(tokenRequest(c, bearer(t), "", "repository:team/app:pull"), 401, "UNAUTHORIZED");
        String[] many = new String[TokenEndpoint.MAX_SCOPES + 1];
        for (int i = 0; i < many.length; i++) {
            many[i] = "repository:team/r" + i + ":pull";
        }
        Fixtures.assertError(tokenRequest(c, alice, "", many), 400, "UNSUPPORTED");
        assertEquals(200, tokenRequest(c, alice, "", java.util.Arrays.copyOf(many, TokenEndpoint.MAX_SCOPES)).statusCode());
    }

    @Test
    void basicModeChallengesWithBasicAndHasNoTokenEndpoint() throws Exception {
        Path basicStorage = tmp.resolve("basic");
        addUsers(basicStorage, Map.of("alice", ALICE_PW), Map.of("alice", Set.of("team")));
        Path config = tmp.resolve("basic.yaml");
        Files.writeString(config, RULES.replace("mode: token", "mode: basic"));
        try (TestRegistry server = TestRegistry.start(basicStorage, config, Map.of())) {
            RegistryClient b = server.client();
            HttpResponse<byte[]> none = b.get("/v2/");
            Fixtures.assertError(none, 401, "UNAUTHORIZED");
            assertEquals("Basic realm=\"berth\"", challenge(none));
            assertEquals(200, b.get("/v2/", "Authorization", basic("alice", ALICE_PW)).statusCode());
            HttpResponse<byte[]> wrong = b.get("/v2/", "Authorization", basic("alice", "wrong-password-1"));
            Fixtures.assertError(wrong, 401, "UNAUTHORIZED");
            assertEquals("Basic realm=\"berth\"", challenge(wrong));
            HttpResponse<byte[]> pull = b.get("/v2/team/app/tags/list");
            Fixtures.assertError(pull, 401, "UNAUTHORIZED");
            assertEquals("Basic realm=\"berth\"", challenge(pull));

            HttpResponse<byte[]> upload = b.post("/v2/team/app/blobs/uploads/", new byte[0],
                    "Authorization", basic("alice", ALICE_PW));
            assertEquals(202, upload.statusCode());
            Fixtures.assertError(b.post("/v2/other/app/blobs/uploads/", new byte[0],
                    "Authorization", basic("alice", ALICE_PW)), 403, "DENIED");
            assertEquals(404, b.get("/auth/token?service=berth", "Authorization", basic("alice", ALICE_PW)).statusCode(),
                    "no token endpoint in basic mode");
        }
    }
}
