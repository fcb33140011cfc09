package dev.berth.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * External tools some tests need. Without them the test is skipped with a message saying what to
 * install, unless {@code BERTH_REQUIRE_TOOLS=1} (set by {@code .ci/run}) turns the skip into a failure.
 */
public final class RequiredTools {
    public static final String REQUIRE_ENV = "BERTH_REQUIRE_TOOLS";

    private RequiredTools() {
    }

    /** A Docker daemon that answers. */
    public static void docker() {
        require(run("docker", "info") == 0, "a running Docker daemon (apt-get install docker.io; dockerd &)");
    }

    /** CNCF distribution, the reference registry. */
    public static void dockerRegistry() {
        require(run("docker-registry", "--version") == 0, "docker-registry (apt-get install docker-registry)");
    }

    /** htpasswd, to make bcrypt password files. */
    public static void htpasswd() {
        require(run("htpasswd", "-nbB", "u", "p") == 0, "htpasswd (apt-get install apache2-utils)");
    }

    public static void skopeo() {
        require(run("skopeo", "--version") == 0, "skopeo (apt-get install skopeo)");
    }

    /** A statically linked busybox to put in FROM-scratch test images; returns its path. */
    public static Path staticBusybox() {
        Path busybox = Path.of("/bin/busybox");
        boolean ok = Files.isExecutable(busybox) && output("ldd", busybox.toString()).contains("not a dynamic executable");
        require(ok, "a static busybox at /bin/busybox (apt-get install busybox-static)");
        return busybox;
    }

    /** Skips the test (fails it under CI's {@link #REQUIRE_ENV}) unless {@code present}; {@code what} says what to install. */
    public static void require(boolean present, String what) {
        if (present) {
            return;
        }
        String message = "this test needs " + what;
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            fail(message + " and " + REQUIRE_ENV + "=1 forbids skipping it");
        }
        assumeTrue(false, message + "; skipped");
    }

    /** The exit code of {@code command} (output discarded), or -1 when it cannot be run. */
    public static int run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String output(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
