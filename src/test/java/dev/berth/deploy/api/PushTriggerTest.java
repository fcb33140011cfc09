package dev.berth.deploy.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.notify.HmacSigner;
import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pushes deploy: a push to Berth reaches the deployer through the durable event feed; a push to
 * another registry arrives on the signed inbound hook. Deployments pin what was pushed.
 */
class PushTriggerTest {
    private static final String SECRET = "s3cret";

    @TempDir
    Path storage;

    private static <T> T waitFor(String what, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        T last = probe.get();
        while (!done.test(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last: " + last);
            }
            Thread.sleep(50);
            last = probe.get();
        }
        return last;
    }

    private static JsonObject service(ControlPlaneClient api) {
        return api.ok("DescribeServices", new JsonObject().put("services", new JsonArray().add("web")))
                .getJsonArray("services").getJsonObject(0);
    }

    private static JsonObject primary(JsonObject service) {
        return service.getJsonArray("deployments").stream().map(o -> (JsonObject) o)
                .filter(d -> "PRIMARY".equals(d.getString("status"))).findFirst().orElseThrow();
    }

    private static void taskDefinition(ControlPlaneClient api, String image) {
        api.ok("RegisterTaskDefinition", new JsonObject().put("family", "web").put("containerDefinitions", new JsonArray()
                .add(new JsonObject().put("name", "web").put("image", image).put("memory", 64))));
    }

    @Test
    void aPushToBerthDeploysThePushedDigestToServicesThatFollowTheTag() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            RegistryClient c = registry.client();
            ControlPlaneClient api = new ControlPlaneClient(c);
            String host = registry.hostPort();
            Fixtures.Image v1 = Fixtures.pushImage(c, "team/web", "stable");
            taskDefinition(api, host + "/team/web:stable");
            JsonObject created = api.ok("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web")
                    .put("desiredCount", 1).put("autoDeploy", new JsonObject().put("container", "web").put("policy", "digest")))
                    .getJsonObject("service");
            assertEquals(new JsonObject().put("container", "web").put("repository", "team/web").put("policy", "digest")
                    .put("tag", "stable").put("debounceSeconds", 0), created.getJsonObject("autoDeploy"));
            assertEquals(host + "/team/web:stable@" + v1.digest(), primary(created).getJsonObject("images").getString("web"),
                    "the tag was resolved in Berth's registry and pinned");

            Fixtures.pushImage(c, "team/web", "other"); // another tag: no deployment
            Fixtures.Image v2 = Fixtures.pushImage(c, "team/web", "stable");
            JsonObject deployed = waitFor("a deployment of the pushed digest", () -> service(api),
                    s -> primary(s).getJsonObject("images").getString("web").endsWith(v2.digest()));
            JsonObject p = primary(deployed);
            assertEquals(host + "/team/web:stable@" + v2.digest(), p.getJsonObject("images").getString("web"));
            assertTrue(p.getString("trigger").startsWith("push of team/web:stable@" + v2.digest()), p.encode());
            assertEquals(2, deployed.getJsonArray("deployments").size(), "one deployment per push of the followed tag");
            // The service's tasks run the pinned image.
            JsonArray taskIds = api.ok("ListTasks", new JsonObject().put("serviceName", "web").put("desiredStatus", "RUNNING"))
                    .getJsonArray("taskArns");
            assertEquals(1, taskIds.size());
            assertEquals(host + "/team/web:stable@" + v2.digest(), api.task("default", taskIds.getString(0))
                    .getJsonArray("containers").getJsonObject(0).getString("image"));
        }
    }

    private long recordedEvents() throws Exception {
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + storage.resolve("state.db"));
             var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM notify_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void onlyPushesToRepositoriesAServiceFollowsAreRecordedForTheDeployer() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            RegistryClient c = registry.client();
            ControlPlaneClient api = new ControlPlaneClient(c);
            Fixtures.pushImage(c, "team/web", "1");
            assertEquals(0, recordedEvents(), "no endpoint and no service following: a push costs no outbox commit");
            taskDefinition(api, registry.hostPort() + "/team/web:1");
            api.ok("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0)
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "glob").put("pattern", "*")));
            Fixtures.pushImage(c, "team/other", "1");
            assertEquals(0, recordedEvents(), "a repository nobody follows");
            Fixtures.pushImage(c, "team/web", "2");
            assertEquals(1, recordedEvents(), "the followed repository's push is recorded before the push is answered");
            waitFor("the deployment", () -> service(api), s -> s.getJsonArray("deployments").size() == 2);
            api.ok("DeleteService", new JsonObject().put("service", "web").put("force", true));
            Fixtures.pushImage(c, "team/web", "3");
            assertEquals(1, recordedEvents(), "no longer followed once the service is gone");
        }
    }

    @Test
    void pushesWithinTheDebounceWindowCollapseIntoOneDeployment() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            RegistryClient c = registry.client();
            ControlPlaneClient api = new ControlPlaneClient(c);
            Fixtures.pushImage(c, "team/web", "1.0.0");
            taskDefinition(api, registry.hostPort() + "/team/web:1.0.0");
            api.ok("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0)
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "semver").put("range", "^1.0.0")
                            .put("debounceSeconds", 2)));
            Fixtures.pushImage(c, "team/web", "1.1.0");
            Fixtures.Image v12 = Fixtures.pushImage(c, "team/web", "1.2.0");
            Fixtures.pushImage(c, "team/web", "1.1.5"); // a downgrade from the pending 1.2.0: ignored
            Fixtures.pushImage(c, "team/web", "2.0.0"); // out of range
            JsonObject waiting = waitFor("the pending trigger", () -> service(api), s -> s.getJsonObject("pendingTrigger") != null
                    && s.getJsonObject("pendingTrigger").getString("image").contains(":1.2.0@"));
            assertEquals(1, waiting.getJsonArray("deployments").size(), "nothing deployed within the window");
            JsonObject deployed = waitFor("one deployment after the window", () -> service(api),
                    s -> s.getJsonArray("deployments").size() > 1);
            Thread.sleep(1500);
            deployed = service(api);
            assertEquals(2, deployed.getJsonArray("deployments").size(), deployed.encodePrettily());
            assertTrue(primary(deployed).getJsonObject("images").getString("web").endsWith(":1.2.0@" + v12.digest()));
        }
    }

    @Test
    void theInboundHookTakesSignedEnvelopesFromOtherRegistries() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage, Map.of("deploy.hookSecret", SECRET))) {
            RegistryClient c = registry.client();
            ControlPlaneClient api = new ControlPlaneClient(c);
            taskDefinition(api, "registry.example.com/team/web:main-1");
            api.ok("CreateService", new JsonObject().put("serviceName", "web").put("taskDefinition", "web").put("desiredCount", 0)
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "glob").put("pattern", "main-*")));
            assertEquals("registry.example.com/team/web:main-1", primary(service(api)).getJsonObject("images").getString("web"),
                    "another registry's image is not resolved");
            String digest = "sha256:" + "ab".repeat(32);
            byte[] envelope = new JsonObject().put("events", new JsonArray()
                    .add(new JsonObject().put("action", "pull").put("target", new JsonObject().put("repository", "team/web")
                            .put("tag", "main-1").put("digest", digest)))
                    .add(new JsonObject().put("action", "push").put("target", new JsonObject().put("repository", "team/web")
                            .put("tag", "main-2").put("digest", digest)
                            .put("mediaType", "application/vnd.oci.image.manifest.v1+json"))
                            .put("request", new JsonObject().put("host", "registry.example.com"))))
                    .encode().getBytes(StandardCharsets.UTF_8);

            HttpResponse<byte[]> unsigned = c.post("/api/hooks/registry", envelope);
            assertEquals(401, unsigned.statusCode());
            HttpResponse<byte[]> forged = c.post("/api/hooks/registry", envelope, HmacSigner.HEADER,
                    new HmacSigner("wrong").sign(envelope));
            assertEquals(401, forged.statusCode());
            assertEquals("InvalidSignatureException", new JsonObject(new String(forged.body())).getJsonObject("error")
                    .getString("code"));
            assertEquals(1, service(api).getJsonArray("deployments").size(), "refused hooks deploy nothing");

            HttpResponse<byte[]> ok = c.post("/api/hooks/registry", envelope, HmacSigner.HEADER,
                    new HmacSigner(SECRET).sign(envelope));
            assertEquals(202, ok.statusCode(), () -> new String(ok.body()));
            assertEquals(new JsonObject().put("events", 2).put("pushes", 1).put("services", 1), new JsonObject(new String(ok.body())));
            JsonObject p = primary(service(api));
            assertEquals("registry.example.com/team/web:main-2@" + digest, p.getJsonObject("images").getString("web"));
            assertTrue(p.getString("trigger").endsWith("(hook from registry.example.com)"), p.encode());

            byte[] bad = "{\"events\":[{\"action\":\"push\",\"target\":{\"repository\":\"team/web\",\"tag\":\"main-3\"}}]}"
                    .getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> invalid = c.post("/api/hooks/registry", bad, HmacSigner.HEADER, new HmacSigner(SECRET).sign(bad));
            assertEquals(400, invalid.statusCode());
            assertEquals("events[0].target.digest", new JsonObject(new String(invalid.body())).getJsonObject("error")
                    .getString("field"));
        }
        try (TestRegistry registry = TestRegistry.start(storage)) {
            HttpResponse<byte[]> off = registry.client().post("/api/hooks/registry", "{\"events\":[]}".getBytes(StandardCharsets.UTF_8));
            assertEquals(403, off.statusCode(), "without a secret the hook refuses everything");
        }
    }

    @Test
    void serviceRequestsWithBadAutoDeployNameTheField() throws Exception {
        try (TestRegistry registry = TestRegistry.start(storage)) {
            ControlPlaneClient api = new ControlPlaneClient(registry.client());
            taskDefinition(api, "team/web:1.0.0");
            JsonObject base = new JsonObject().put("serviceName", "web").put("taskDefinition", "web");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "nope").put("policy", "digest")),
                    400, "InvalidParameterException", "autoDeploy.container");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "web").put("policy", "newest")),
                    400, "InvalidParameterException", "autoDeploy.policy");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "web").put("policy", "semver")
                    .put("range", "^^1")), 400, "InvalidParameterException", "autoDeploy.range");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "web").put("policy", "regexp")
                    .put("pattern", "(")), 400, "InvalidParameterException", "autoDeploy.pattern");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "web").put("policy", "digest")
                    .put("range", "^1")), 400, "InvalidParameterException", "autoDeploy.range");
            api.error("CreateService", base.copy().put("autoDeploy", new JsonObject().put("container", "web").put("policy", "glob")
                    .put("pattern", "*").put("debounceSeconds", -1)), 400, "InvalidParameterException", "autoDeploy.debounceSeconds");
            api.error("CreateService", base.copy().put("desiredCount", -1), 400, "InvalidParameterException", "desiredCount");
            api.error("CreateService", base.copy().put("deploymentConfiguration", new JsonObject().put("maximumPercent", 100)),
                    400, "InvalidParameterException", "deploymentConfiguration.maximumPercent");
            api.error("CreateService", base.copy().put("deploymentConfiguration", new JsonObject().put("minimumHealthyPercent", 101)),
                    400, "InvalidParameterException", "deploymentConfiguration.minimumHealthyPercent");
            api.error("CreateService", base.copy().put("deploymentConfiguration", new JsonObject().put("deploymentCircuitBreaker",
                    new JsonObject().put("rollback", true))), 400, "InvalidParameterException",
                    "deploymentConfiguration.deploymentCircuitBreaker.rollback");
            api.error("CreateService", base.copy().put("healthCheckGracePeriodSeconds", 100000), 400,
                    "InvalidParameterException", "healthCheckGracePeriodSeconds");
            api.error("CreateService", base.copy().put("serviceName", "a b"), 400, "InvalidParameterException", "serviceName");
            api.error("CreateService", base.copy().put("taskDefinition", "nope"), 404, "TaskDefinitionNotFoundException",
                    "taskDefinition");
            api.error("CreateService", base.copy().put("cluster", "nope"), 404, "ClusterNotFoundException", "cluster");
            api.error("CreateService", base.copy().put("launchType", "FARGATE"), 400, "InvalidParameterException", "launchType");
            assertEquals(List.of(), api.ok("ListServices", "{}").getJsonArray("serviceArns").getList(), "nothing was created");
            api.ok("CreateService", base.copy().put("desiredCount", 0));
            api.error("CreateService", base.copy(), 400, "InvalidParameterException", "serviceName");
            api.error("UpdateService", new JsonObject().put("service", "nope"), 404, "ServiceNotFoundException", "service");
            api.error("UpdateService", new JsonObject().put("service", "web").put("desiredCount", 20000), 400,
                    "InvalidParameterException", "desiredCount");
            api.error("UpdateService", new JsonObject().put("service", "web").put("removeAutoDeploy", true)
                    .put("autoDeploy", new JsonObject().put("container", "web").put("policy", "digest")), 400,
                    "InvalidParameterException", "removeAutoDeploy");
            api.error("DescribeServices", new JsonObject(), 400, "InvalidParameterException", "services");
            api.error("ListServices", new JsonObject().put("maxResults", 0), 400, "InvalidParameterException", "maxResults");
            api.error("DeleteService", new JsonObject().put("service", "nope"), 404, "ServiceNotFoundException", "service");
            api.error("DeleteService", new JsonObject(), 400, "InvalidParameterException", "service");
            api.error("ListServiceEvents", new JsonObject().put("maxResults", 0), 400, "InvalidParameterException", "maxResults");
            api.error("SubmitHeartbeat", new JsonObject(), 400, "InvalidParameterException", "containerInstance");
            api.error("SubmitHeartbeat", new JsonObject().put("containerInstance", "nope"), 404,
                    "ContainerInstanceNotFoundException", "containerInstance");
            api.error("DeregisterContainerInstance", new JsonObject().put("containerInstance", "nope"), 404,
                    "ContainerInstanceNotFoundException", "containerInstance");
            api.error("UpdateService", new JsonObject().put("service", "web").put("taskDefinition", "nope"), 404,
                    "TaskDefinitionNotFoundException", "taskDefinition");
            api.error("ListServiceEvents", new JsonObject().put("service", "nope"), 404, "ServiceNotFoundException", "service");
            api.error("DeleteCluster", new JsonObject().put("cluster", "default"), 400, "ClientException", "cluster");
            JsonObject svc = api.ok("DescribeServices", new JsonObject().put("services", new JsonArray().add("web")))
                    .getJsonArray("services").getJsonObject(0);
            assertEquals(0, svc.getInteger("desiredCount"), "refused updates changed nothing");
            assertEquals(1, svc.getJsonArray("deployments").size());
        }
    }
}
