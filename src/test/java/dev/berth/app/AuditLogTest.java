package dev.berth.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log: pushes, deletes, control-plane changes and agent registrations, refused ones
 * included, as JSON lines in {@code <storage.root>/audit.log}; reads are not in it, nor secrets;
 * the file rolls over by size.
 */
class AuditLogTest {
    @TempDir
    Path tmp;

    private static List<JsonObject> lines(Path file) throws Exception {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(JsonObject::new).toList();
    }

    private static JsonObject only(List<JsonObject> lines, String action, String outcome) {
        List<JsonObject> found = lines.stream().filter(l -> l.getString("action").equals(action)
                && l.getString("outcome").equals(outcome)).toList();
        assertEquals(1, found.size(), action + "/" + outcome + " in " + lines);
        return found.get(0);
    }

    @Test
    void changesAndRefusedChangesAreAuditedAndReadsAreNot() throws Exception {
        Path storage = tmp.resolve("storage");
        Fixtures.Image image;
        String join;
        try (TestRegistry berth = TestRegistry.start(storage)) {
            RegistryClient c = berth.client();
            image = Fixtures.pushImage(c, "team/app", "v1");
            c.get("/v2/team/app/manifests/v1", "Accept", image.mediaType());
            assertEquals(400, c.put("/v2/team/app/manifests/v2", "{}".getBytes(), "Content-Type", image.mediaType()).statusCode());
            assertEquals(202, c.delete("/v2/team/app/manifests/v1").statusCode());
            join = new JsonObject(new String(c.post("/api/CreateJoinToken", "{}".getBytes(),
                    "Content-Type", "application/json").body(), StandardCharsets.UTF_8)).getString("joinToken");
            assertEquals(401, c.post("/api/agents/register", new JsonObject().put("joinToken", "wrong")
                    .put("hostname", "intruder").encode().getBytes(), "Content-Type", "application/json").statusCode());
            c.post("/api/DescribeClusters", "{}".getBytes(), "Content-Type", "application/json");
            assertFalse(join.isEmpty());
        }
        List<JsonObject> lines = lines(storage.resolve("audit.log"));
        JsonObject push = only(lines, "registry.push", "ok");
        assertEquals("team/app", push.getString("repository"));
        assertEquals("v1", push.getString("reference"));
        assertEquals(image.digest(), push.getString("digest"));
        assertEquals(201, push.getInteger("status"));
        assertEquals("anonymous", push.getString("actor"));
        assertTrue(push.getString("remote").startsWith("127.0.0.1:"), push.encode());
        assertTrue(push.getString("time").endsWith("Z"));
        assertEquals("v2", only(lines, "registry.push", "refused").getString("reference"));
        assertEquals("v1", only(lines, "registry.delete", "ok").getString("reference"));
        only(lines, "controlplane.CreateJoinToken", "ok");
        JsonObject intruder = only(lines, "agent.register", "refused");
        assertEquals("intruder", intruder.getString("hostname"));
        assertEquals(401, intruder.getInteger("status"));
        // Reads are not audited, and no secret (join tokens) is ever written.
        String text = Files.readString(storage.resolve("audit.log"));
        assertFalse(text.contains("DescribeClusters"), text);
        assertFalse(text.contains("\"GET\""), text);
        assertFalse(text.contains("wrong"), text);
        assertFalse(text.contains(join), text);
    }

    @Test
    void theFileRollsOverBySizeAndCanBeTurnedOff() throws Exception {
        Path storage = tmp.resolve("storage");
        try (TestRegistry berth = TestRegistry.start(storage, Map.of("audit.maxFileSize", "4KiB", "audit.maxFiles", "2"))) {
            RegistryClient c = berth.client();
            // The size is looked at every 250 ms: spread the requests over a second or more.
            for (int i = 0; i < 80; i++) {
                c.delete("/v2/team/app/manifests/t" + i);
                Thread.sleep(10);
            }
        }
        assertTrue(Files.exists(storage.resolve("audit.log")));
        assertTrue(Files.exists(storage.resolve("audit.log.1")));
        assertFalse(Files.exists(storage.resolve("audit.log.3")));
        assertTrue(Files.size(storage.resolve("audit.log.1")) < 16 * 1024, "rolled over late");

        Path quiet = tmp.resolve("quiet");
        try (TestRegistry berth = TestRegistry.start(quiet, Map.of("audit.file", ""))) {
            Fixtures.pushImage(berth.client(), "team/app", "v1");
        }
        assertFalse(Files.exists(quiet.resolve("audit.log")));
    }
}
