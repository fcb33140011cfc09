package dev.berth.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Test images built FROM scratch with the static busybox (nothing can be pulled from Docker Hub
 * here): a shell, and {@code httpd} serving {@code /www/index.html} with a page of the test's choice.
 */
public final class BusyboxImages {
    private BusyboxImages() {
    }

    /** Runs {@code docker ARGS…}; fails the test when it fails. */
    public static ExternalCommand.Result docker(Path scratch, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        ExternalCommand.Result r = ExternalCommand.run(command, Map.of("DOCKER_BUILDKIT", "0"), scratch, Duration.ofMinutes(3));
        if (r.exitCode() != 0) {
            fail(r.toString());
        }
        return r;
    }

    /**
     * Best-effort clean-up after a test: removes every container an agent ran for one of
     * {@code nodes} (they carry the {@code dev.berth.node} label) and every image in {@code images},
     * whatever state they are in. Failures are ignored: nothing may be left to remove.
     */
    public static void removeNodesAndImages(Collection<String> nodes, Collection<String> images)
            throws IOException, InterruptedException {
        for (String node : nodes) {
            new ProcessBuilder("sh", "-c", "docker ps -aq --filter label=dev.berth.node=" + node + " | xargs -r docker rm -f")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(60, TimeUnit.SECONDS);
        }
        for (String image : images) {
            new ProcessBuilder("docker", "rmi", "-f", image).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Builds {@code name} (e.g. {@code 127.0.0.1:PORT/team/web:v1}): busybox, and a web root whose
     * index page is {@code page}. Different pages give different images (and digests).
     */
    public static void buildWebImage(Path scratch, String name, String page) throws IOException, InterruptedException {
        buildImage(scratch, name, page, "[\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]");
    }

    /** Like {@link #buildWebImage}, with another command (JSON exec form), e.g. one that fails at start. */
    public static void buildImage(Path scratch, String name, String page, String cmd) throws IOException, InterruptedException {
        RequiredTools.docker();
        Path busybox = RequiredTools.staticBusybox();
        Path context = Files.createTempDirectory(scratch, "context");
        Files.copy(busybox, context.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(context.resolve("www"));
        Files.writeString(context.resolve("www/index.html"), page);
        Files.writeString(context.resolve("Dockerfile"), String.join("\n",
                "FROM scratch",
                "COPY busybox /bin/busybox",
                "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]",
                "COPY www /www",
                "CMD " + cmd,
                ""));
        docker(scratch, "build", "--pull=false", "-q", "-t", name, context.toString());
    }
}
