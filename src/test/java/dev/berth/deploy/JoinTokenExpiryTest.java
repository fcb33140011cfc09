package dev.berth.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.deploy.model.ControlPlaneException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A join token works until it expires, then is refused like a wrong one. */
class JoinTokenExpiryTest {
    @TempDir
    Path dir;

    @Test
    void anExpiredJoinTokenIsRefused() throws Exception {
        try (SimulatedCluster c = new SimulatedCluster(dir, image -> SimulatedCluster.Behaviour.HEALTHY)) {
            String token = c.call("CreateJoinToken", new JsonObject().put("expiresInSeconds", 120)).getString("joinToken");
            JsonObject register = new JsonObject().put("joinToken", token)
                    .put("totalResources", new JsonObject().put("cpu", 1).put("memory", 128));
            assertEquals("default", c.call("RegisterContainerInstance", register).getJsonObject("containerInstance")
                    .getString("cluster"));
            c.clock.advance(Duration.ofSeconds(121));
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.call("RegisterContainerInstance", register));
            ControlPlaneException refused = (ControlPlaneException) e.getCause();
            assertEquals("InvalidJoinTokenException", refused.code());
            assertEquals(401, refused.status());
        }
    }
}
