package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.auth.Pem;
import dev.berth.auth.Users;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents on a server with authentication (a fake Engine): a join token is single-use; over TLS a
 * node gets a client certificate from Berth's authority and its session needs it (its own: not
 * none, not another node's); and a node pulls its images with a credential that grants pull on
 * exactly those repositories.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentAuthTest {
    private static final String ROOT_PASSWORD = "root-password-1";

    @TempDir
    Path tmp;
    private Vertx vertx;
    private String socket;
    private AgentFakeEngineTest.FakeEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        engine = new AgentFakeEngineTest.FakeEngine("node");
        socket = engine.serve(vertx, tmp.resolve("engine.sock"));
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** A server with token authentication and one admin, root. */
    private TestRegistry start(Path storage, boolean tls) throws Exception {
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        users.setPassword("root", ROOT_PASSWORD);
        users.setGroups("root", Set.of("admin"));
        return TestRegistry.start(storage, tls ? Map.of("tls.auto", "true", "auth.mode", "token")
                : Map.of("auth.mode", "token"));
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> post(HttpClient client, String url, String authorization, JsonObject body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject admin(HttpClient client, String base, String action, JsonObject body) throws Exception {
        HttpResponse<String> r = post(client, base + "/api/" + action, basic("root", ROOT_PASSWORD), body);
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    /** Opens (and closes) an agent session; fails with what the controller answered. */
    private void session(String url, String agentToken, Path ca, Path cert, Path key) throws Exception {
        WebSocketClientOptions options = new WebSocketClientOptions()
                .setTrustOptions(new PemTrustOptions().addCertPath(ca.toString())).setVerifyHost(false);
        if (cert != null) {
            options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString()));
        }
        var client = vertx.createWebSocketClient(options);
        try {
            var ws = await(client.connect(new WebSocketConnectOptions().setAbsoluteURI(url)
                    .addHeader("Authorization", "Bearer " + agentToken)));
            await(ws.close());
        } finally {
            client.close();
        }
    }

    @Test
    void overTlsANodeNeedsItsOwnClientCertificateAndAJoinTokenWorksOnce() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = start(storage, true)) {
            String base = "https://127.0.0.1:" + berth.port();
            Path ca = storage.resolve("pki/ca.crt");
            HttpClient client = HttpClient.newBuilder().sslContext(Pem.trusting(ca)).build();
            String token = admin(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");

            // Registration over TLS needs a certificate request, and a real one.
            JsonObject resources = new JsonObject().put("cpu", 1024).put("memory", 1024);
            HttpResponse<String> noCsr = post(client, base + "/api/agents/register", null,
                    new JsonObject().put("joinToken", token).put("totalResources", resources));
            assertEquals(400, noCsr.statusCode(), noCsr.body());
            assertEquals("csr", new JsonObject(noCsr.body()).getJsonObject("error").getString("field"));
            HttpResponse<String> badCsr = post(client, base + "/api/agents/register", null, new JsonObject()
                    .put("joinToken", token).put("totalResources", resources).put("csr", "-----BEGIN NONSENSE-----"));
            assertEquals(400, badCsr.statusCode(), badCsr.body());

            // Neither refusal spent the token: the agent joins with it and gets its certificate.
            Agent agent = await(Agent.start(vertx, new Agent.Options(base, token, tmp.resolve("agent"), socket, "one",
                    List.of(), 1024, 1024, new Agent.ClientTls(Pem.encode(Pem.readCertificates(ca)), true))));
            await(agent.firstSnapshot());
            List<X509Certificate> chain = Pem.readCertificates(tmp.resolve("agent/agent.crt"));
            X509Certificate authority = Pem.readCertificates(ca).get(0);
            chain.get(0).verify(authority.getPublicKey());
            assertEquals("CN=" + agent.nodeId() + ",O=Berth", chain.get(0).getSubjectX500Principal().getName());
            assertTrue(chain.get(0).getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.2"), "a client certificate");
            for (String secret : List.of("agent.key", "agent.json")) {
                assertEquals("[OWNER_READ, OWNER_WRITE]", String.valueOf(new java.util.TreeSet<>(
                        Files.getPosixFilePermissions(tmp.resolve("agent").resolve(secret)))), secret);
            }

            // Used once: a second node cannot join with it.
            ExecutionException reused = assertThrows(ExecutionException.class, () -> await(Agent.start(vertx,
                    new Agent.Options(base, token, tmp.resolve("agent-2"), socket, "two", List.of(), 1024, 1024,
                            new Agent.ClientTls(Pem.encode(Pem.readCertificates(ca)), true)))));
            assertTrue(String.valueOf(reused.getCause()).contains("join token"), String.valueOf(reused.getCause()));

            // The session: the node's token with its certificate works; without it, or with another node's, not.
            String agentToken = new JsonObject(Files.readString(tmp.resolve("agent/agent.json"))).getString("agentToken");
            String url = "wss://127.0.0.1:" + berth.port() + "/api/agents/connect";
            session(url, agentToken, ca, tmp.resolve("agent/agent.crt"), tmp.resolve("agent/agent.key"));
            ExecutionException none = assertThrows(ExecutionException.class, () -> session(url, agentToken, ca, null, null));
            assertEquals(401, ((UpgradeRejectedException) none.getCause()).getStatus());

            String second = admin(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");
            Agent other = await(Agent.start(vertx, new Agent.Options(base, second, tmp.resolve("other"), socket, "other",
                    List.of(), 1024, 1024, new Agent.ClientTls(Pem.encode(Pem.readCertificates(ca)), true))));
            await(other.firstSnapshot());
            ExecutionException swapped = assertThrows(ExecutionException.class, () -> session(url, agentToken, ca,
                    tmp.resolve("other/agent.crt"), tmp.resolve("other/agent.key")));
            assertEquals(401, ((UpgradeRejectedException) swapped.getCause()).getStatus(), String.valueOf(swapped.getCause()));
            // The server's own certificate comes from the same authority, but is no client certificate
            // (refused in the handshake or by the gateway).
            assertThrows(ExecutionException.class, () -> session(url, agentToken, ca,
                    storage.resolve("pki/server.crt"), storage.resolve("pki/server.key")));
            await(agent.stop());
            await(other.stop());
        }
    }

    /** Sends one message on a fresh session (the node's certificate) and answers the first frame of {@code type}. */
    private JsonObject ask(String url, String agentToken, Path ca, Path cert, Path key, Record message, String type)
            throws Exception {
        var client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setTrustOptions(new PemTrustOptions().addCertPath(ca.toString())).setVerifyHost(false)
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString())));
        try {
            var ws = await(client.connect(new WebSocketConnectOptions().setAbsoluteURI(url)
                    .addHeader("Authorization", "Bearer " + agentToken)));
            var answer = new java.util.concurrent.CompletableFuture<JsonObject>();
            ws.textMessageHandler(text -> {
                JsonObject frame = new JsonObject(text);
                if (type.equals(frame.getString("type"))) {
                    answer.complete(frame.getJsonObject("message"));
                }
            });
            ws.writeTextMessage(dev.berth.agent.protocol.Messages.encode(message));
            JsonObject result = answer.get(30, TimeUnit.SECONDS);
            await(ws.close());
            return result;
        } finally {
            client.close();
        }
    }

    /** Copies the agent's key and certificate, again until the two belong together (a renewal may come between). */
    private static void copyPair(Path key, Path cert, Path keyCopy, Path certCopy) throws Exception {
        for (int i = 0; i < 50; i++) {
            Files.copy(key, keyCopy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(cert, certCopy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
            sign.initSign(Pem.readPrivateKey(keyCopy));
            sign.update(new byte[] {1});
            byte[] signature = sign.sign();
            java.security.Signature verify = java.security.Signature.getInstance("SHA256withECDSA");
            verify.initVerify(Pem.readCertificates(certCopy).get(0).getPublicKey());
            verify.update(new byte[] {1});
            if (verify.verify(signature)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the agent's key and certificate never belonged together");
    }

    /** Waits (up to 40 s: certificates in these tests last 24 s) until {@code condition} holds. */
    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        dev.berth.testing.Fixtures.awaitTrue(condition, () -> what, Duration.ofSeconds(40));
    }

    @Test
    void aNodeRenewsItsCertificateOverItsSessionBeforeItExpiresAndReconnectsWithTheNewOne() throws Exception {
        // Certificates last 24 s, far less than the authority's 5 minutes of back-dating, so the agent's
        // is due for renewal (less than a third of its life left) from the start: the agent renews it
        // at once, then whenever half of what is left has gone.
        Path storage = tmp.resolve("storage");
        int port = dev.berth.testing.BerthProcess.freePort();
        Map<String, String> config = Map.of("tls.auto", "true", "auth.mode", "token",
                "tls.agentCertificateTtl", "24s", "http.listen", "127.0.0.1:" + port);
        Users users = Users.load(storage.resolve("auth/htpasswd"), storage.resolve("auth/groups"));
        users.setPassword("root", ROOT_PASSWORD);
        users.setGroups("root", Set.of("admin"));
        TestRegistry[] berth = {TestRegistry.start(storage, config)};
        Agent agent = null;
        try {
            String base = "https://127.0.0.1:" + port;
            Path ca = storage.resolve("pki/ca.crt");
            X509Certificate authority = Pem.readCertificates(ca).get(0);
            Agent.ClientTls trust = new Agent.ClientTls(Pem.encode(authority), true);
            HttpClient client = HttpClient.newBuilder().sslContext(Pem.trusting(ca)).build();
            String join = admin(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");
            Path state = tmp.resolve("agent");
            agent = await(Agent.start(vertx, new Agent.Options(base, join, state, socket, "renewing", List.of(), 1024,
                    1024, trust)));
            await(agent.firstSnapshot());
            String node = agent.nodeId();
            Path certFile = state.resolve("agent.crt");
            Path keyFile = state.resolve("agent.key");

            // Keep a pair the agent had; wait until it has expired.
            Path oldCert = tmp.resolve("old.crt");
            Path oldKey = tmp.resolve("old.key");
            copyPair(keyFile, certFile, oldKey, oldCert);
            X509Certificate old = Pem.readCertificates(oldCert).get(0);
            awaitTrue(() -> System.currentTimeMillis() > old.getNotAfter().getTime() + 1_000, "the kept certificate expired");

            // The agent's pair now is a newer one: another key, for the same node, from the authority,
            // still valid, and the session went on.
            X509Certificate now = Pem.readCertificates(certFile).get(0);
            assertFalse(now.getPublicKey().equals(old.getPublicKey()), "renewed for a new key");
            now.verify(authority.getPublicKey());
            now.checkValidity();
            assertEquals("CN=" + node + ",O=Berth", now.getSubjectX500Principal().getName());
            assertTrue(berth[0].server().agentGateway().connectedNodes().contains(node), "still connected");

            // Right after the next renewal the controller restarts: the agent's next session is made with
            // the renewed pair (the one it began with has expired), and it reconnects.
            awaitTrue(() -> {
                try {
                    return !Pem.readCertificates(certFile).get(0).getPublicKey().equals(now.getPublicKey());
                } catch (Exception e) {
                    return false;
                }
            }, "the certificate was renewed again");
            berth[0].close();
            berth[0] = TestRegistry.start(storage, config);
            awaitTrue(() -> berth[0].server().agentGateway().connectedNodes().contains(node), "the agent reconnected");

            // The agent stops. Its renewed pair opens a session; the expired one no longer does.
            await(agent.stop());
            agent = null;
            String agentToken = new JsonObject(Files.readString(state.resolve("agent.json"))).getString("agentToken");
            String url = "wss://127.0.0.1:" + port + "/api/agents/connect";
            Path keyNow = tmp.resolve("now.key");
            Path certNow = tmp.resolve("now.crt");
            copyPair(keyFile, certFile, keyNow, certNow);
            session(url, agentToken, ca, certNow, keyNow);
            assertThrows(ExecutionException.class, () -> session(url, agentToken, ca, oldCert, oldKey));

            // Over a session, the controller certifies only the node, and only a real request.
            JsonObject refused = ask(url, agentToken, ca, certNow, keyNow,
                    new dev.berth.agent.protocol.Messages.RenewCertificate("-----BEGIN NONSENSE-----"), "Certificate");
            assertEquals(null, refused.getString("certificate"));
            assertTrue(refused.getString("error").startsWith("csr"), refused.encode());
            ClientKey someoneElse = ClientKey.create("someone-else");
            JsonObject issued = ask(url, agentToken, ca, certNow, keyNow,
                    new dev.berth.agent.protocol.Messages.RenewCertificate(someoneElse.csrPem()), "Certificate");
            X509Certificate forNode = Pem.certificates(issued.getString("certificate"), "answer").get(0);
            assertEquals("CN=" + node + ",O=Berth", forNode.getSubjectX500Principal().getName());
            assertEquals(someoneElse.pair().getPublic(), forNode.getPublicKey());
            forNode.verify(authority.getPublicKey());

            // Stopped, the agent renews nothing: its certificate expires. It then cannot start without a
            // join token (saying why), and with one it joins again and gets a valid certificate.
            X509Certificate last = Pem.readCertificates(certFile).get(0);
            awaitTrue(() -> System.currentTimeMillis() > last.getNotAfter().getTime() + 1_000, "the agent's certificate expired");
            ExecutionException stranded = assertThrows(ExecutionException.class, () -> await(Agent.start(vertx,
                    new Agent.Options(base, null, state, socket, "renewing", List.of(), 1024, 1024, trust))));
            assertTrue(String.valueOf(stranded.getCause()).contains("client certificate expired"),
                    String.valueOf(stranded.getCause()));
            String again = admin(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");
            agent = await(Agent.start(vertx, new Agent.Options(base, again, state, socket, "renewing", List.of(), 1024,
                    1024, trust)));
            await(agent.firstSnapshot());
            Pem.readCertificates(certFile).get(0).checkValidity();
            String rejoined = agent.nodeId();
            assertFalse(rejoined.equals(node), "joined again as a new node");
            awaitTrue(() -> berth[0].server().agentGateway().connectedNodes().contains(rejoined), "the node joined again");
        } finally {
            if (agent != null) {
                await(agent.stop());
            }
            berth[0].close();
        }
    }

    @Test
    void aNodePullsItsImagesWithACredentialForThoseRepositoriesOnly() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = start(storage, false)) {
            String base = berth.baseUrl();
            HttpClient client = HttpClient.newHttpClient();
            RegistryClient registry = berth.client();
            // root pushes a private image (nobody else may pull it).
            String rootToken = token(registry, basic("root", ROOT_PASSWORD), "repository:private/app:pull,push");
            String auth = "Bearer " + rootToken;
            String layer = pushBlob(registry, "private/app", "layer".getBytes(StandardCharsets.UTF_8), auth);
            byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
            String configDigest = pushBlob(registry, "private/app", config, auth);
            String manifest = new JsonObject().put("schemaVersion", 2)
                    .put("mediaType", "application/vnd.oci.image.manifest.v1+json")
                    .put("config", new JsonObject().put("mediaType", "application/vnd.oci.image.config.v1+json")
                            .put("digest", configDigest).put("size", config.length))
                    .put("layers", new JsonArray().add(new JsonObject()
                            .put("mediaType", "application/vnd.oci.image.layer.v1.tar").put("digest", layer).put("size", 5)))
                    .encode();
            RegistryClient.expect(registry.put("/v2/private/app/manifests/v1", manifest.getBytes(StandardCharsets.UTF_8),
                    "Content-Type", "application/vnd.oci.image.manifest.v1+json", "Authorization", auth), 201);
            assertEquals(401, registry.get("/v2/private/app/manifests/v1").statusCode(), "not anonymous");

            String join = admin(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");
            engine.imagesMissing = true;
            Agent agent = await(Agent.start(vertx, new Agent.Options(base, join, tmp.resolve("agent"), socket, "n",
                    List.of(), 1024, 1024)));
            await(agent.firstSnapshot());
            String image = berth.hostPort() + "/private/app:v1";
            admin(client, base, "RegisterTaskDefinition", new JsonObject().put("family", "app").put("containerDefinitions",
                    new JsonArray().add(new JsonObject().put("name", "app").put("image", image).put("memory", 32))));
            admin(client, base, "RunTask", new JsonObject().put("taskDefinition", "app"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (engine.pulls.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(engine.pulls.isEmpty(), "the agent never pulled");
            String[] pull = engine.pulls.get(0).split(" ");
            assertTrue(pull[0].startsWith(berth.hostPort() + "/private/app"), pull[0]);
            assertEquals(2, pull.length, "a pull credential went with the pull: " + engine.pulls);
            JsonObject registryAuth = new JsonObject(new String(Base64.getUrlDecoder().decode(pull[1]), StandardCharsets.UTF_8));
            assertEquals(berth.hostPort(), registryAuth.getString("serveraddress"));
            String credential = basic(registryAuth.getString("username"), registryAuth.getString("password"));

            // What a Docker daemon does with it: a token for the image's repository, pull only.
            HttpResponse<byte[]> granted = registry.get("/auth/token?service=berth&scope=repository:private/app:pull,push"
                    + "&scope=repository:private/other:pull", "Authorization", credential);
            assertEquals(200, granted.statusCode(), new String(granted.body(), StandardCharsets.UTF_8));
            String jwt = new JsonObject(new String(granted.body(), StandardCharsets.UTF_8)).getString("token");
            JsonArray access = new JsonObject(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]),
                    StandardCharsets.UTF_8)).getJsonArray("access");
            assertEquals(new JsonArray().add(new JsonObject().put("type", "repository").put("name", "private/app")
                            .put("actions", new JsonArray().add("pull")))
                    .add(new JsonObject().put("type", "repository").put("name", "private/other").put("actions", new JsonArray())),
                    normalized(access));
            assertEquals(200, registry.get("/v2/private/app/manifests/v1", "Authorization", credential).statusCode());
            assertEquals(403, registry.get("/v2/private/other/manifests/v1", "Authorization", credential).statusCode());
            assertEquals(403, registry.put("/v2/private/app/manifests/v2", manifest.getBytes(StandardCharsets.UTF_8),
                    "Content-Type", "application/vnd.oci.image.manifest.v1+json", "Authorization", credential).statusCode());
            // It is no key to the control plane either.
            assertEquals(403, post(client, base + "/api/ListClusters", credential, new JsonObject()).statusCode());
            await(agent.stop());
        }
    }

    /** The access claim with keys in a fixed order. */
    private static JsonArray normalized(JsonArray access) {
        JsonArray out = new JsonArray();
        for (Object o : access) {
            JsonObject a = (JsonObject) o;
            out.add(new JsonObject().put("type", a.getString("type")).put("name", a.getString("name"))
                    .put("actions", a.getJsonArray("actions")));
        }
        return out;
    }

    private static String token(RegistryClient registry, String authorization, String scope) {
        HttpResponse<byte[]> r = registry.get("/auth/token?service=berth&scope=" + scope, "Authorization", authorization);
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        String token = new JsonObject(new String(r.body(), StandardCharsets.UTF_8)).getString("token");
        assertNotNull(token);
        return token;
    }

    /** Pushes {@code content} as a blob of {@code repo} in one POST; answers its digest. */
    private static String pushBlob(RegistryClient registry, String repo, byte[] content, String authorization) {
        String digest = RegistryClient.sha256(content);
        RegistryClient.expect(registry.post("/v2/" + repo + "/blobs/uploads/?digest=" + digest, content,
                "Content-Type", "application/octet-stream", "Authorization", authorization), 201);
        return digest;
    }
}
