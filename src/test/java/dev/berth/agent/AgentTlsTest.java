package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.auth.Pem;
import dev.berth.testing.TestRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents and an HTTPS controller ({@code tls.auto}), with a fake Engine: an agent given the
 * controller's authority registers and gets its desired state over {@code wss://}; one without it is
 * refused by its own TLS check; the embedded agent reaches its own server over HTTPS.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentTlsTest {
    @TempDir
    Path tmp;
    private Vertx vertx;
    private String socket;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        socket = new AgentFakeEngineTest.FakeEngine("node").serve(vertx, tmp.resolve("engine.sock"));
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    private static JsonObject call(HttpClient client, String base, String action, JsonObject body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/api/" + action))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    /** Every registered node, described. */
    private static JsonArray nodes(HttpClient client, String base) throws Exception {
        JsonArray arns = call(client, base, "ListContainerInstances", new JsonObject()).getJsonArray("containerInstanceArns");
        if (arns.isEmpty()) {
            return arns;
        }
        return call(client, base, "DescribeContainerInstances", new JsonObject().put("containerInstances", arns))
                .getJsonArray("containerInstances");
    }

    @Test
    void anAgentTrustingTheControllersAuthorityJoinsOverHttpsAndOneWithoutItCannot() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true"))) {
            String base = "https://127.0.0.1:" + berth.port();
            Path ca = storage.resolve("pki/ca.crt");
            HttpClient client = HttpClient.newBuilder().sslContext(Pem.trusting(ca)).build();
            String token = call(client, base, "CreateJoinToken", new JsonObject()).getString("joinToken");

            // No trust for the authority: the agent's own TLS check refuses the controller.
            ExecutionException refused = assertThrows(ExecutionException.class, () -> await(Agent.start(vertx,
                    new Agent.Options(base, token, tmp.resolve("untrusting"), socket, "untrusting", List.of(), 1024, 1024))));
            assertTrue(String.valueOf(refused.getCause()).contains("certificat")
                    || String.valueOf(refused.getCause().getCause()).contains("certificat"), String.valueOf(refused.getCause()));

            Agent agent = await(Agent.start(vertx, new Agent.Options(base, token, tmp.resolve("agent"), socket, "trusting",
                    List.of(), 1024, 1024, new Agent.ClientTls(Pem.encode(Pem.readCertificates(ca)), true))));
            await(agent.firstSnapshot());
            JsonArray nodes = nodes(client, base);
            assertEquals(1, nodes.size(), nodes.encode());
            assertTrue(nodes.getJsonObject(0).getBoolean("agentConnected"), nodes.encode());
            await(agent.stop());
        }
    }

    @Test
    void theEmbeddedAgentReachesItsOwnServerOverHttps() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("tls.auto", "true", "agent.embedded", "true",
                "agent.dockerSocket", socket))) {
            Agent embedded = berth.server().embeddedAgent();
            assertTrue(embedded != null, "no embedded agent");
            await(embedded.firstSnapshot());
            HttpClient client = HttpClient.newBuilder().sslContext(Pem.trusting(storage.resolve("pki/ca.crt")))
                    .connectTimeout(Duration.ofSeconds(10)).build();
            JsonArray nodes = nodes(client, "https://127.0.0.1:" + berth.port());
            assertEquals(1, nodes.size(), nodes.encode());
            assertTrue(nodes.getJsonObject(0).getBoolean("agentConnected"), nodes.encode());
        }
    }
}
