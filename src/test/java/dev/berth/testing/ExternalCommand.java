package dev.berth.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real client (docker, skopeo, …) with a time limit, its output captured in files under a
 * directory the test owns, and prints what ran so that test logs show the sequence.
 */
public final class ExternalCommand {
    private ExternalCommand() {
    }

    /** What a command did; {@code exitCode} is -1 when it was killed at the time limit. */
    public record Result(List<String> command, int exitCode, byte[] stdoutBytes, String stderr) {
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "`" + String.join(" ", command) + "` exited " + exitCode
                    + "\n--- stdout ---\n" + stdout() + "\n--- stderr ---\n" + stderr;
        }
    }

    public static Result run(List<String> command, Map<String, String> env, Path scratch, Duration limit)
            throws IOException, InterruptedException {
        return run(command, env, scratch, limit, Path.of("/dev/null"));
    }

    /** Like {@link #run(List, Map, Path, Duration)}, with standard input read from {@code stdin}. */
    public static Result run(List<String> command, Map<String, String> env, Path scratch, Duration limit, Path stdin)
            throws IOException, InterruptedException {
        Path logs = Files.createTempDirectory(scratch, "proc");
        Path stdout = logs.resolve("stdout");
        Path stderr = logs.resolve("stderr");
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(stdin.toFile()));
        pb.environment().putAll(env);
        long started = System.nanoTime();
        Process p = pb.start();
        int exit;
        if (p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            exit = p.exitValue();
        } else {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            exit = -1;
        }
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        if (exit == -1) {
            err += "\n(killed after " + limit.toSeconds() + "s)";
        }
        System.out.println("$ " + String.join(" ", command) + "  -> exit " + exit + " in "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
        return new Result(command, exit, Files.readAllBytes(stdout), err);
    }
}
