package dev.berth.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A second, throwaway {@code dockerd} for tests that need a daemon configured in a way the host's
 * daemon is not (here: {@code registry-mirrors}), without touching the host's daemon or network.
 *
 * <p>It runs in fresh network, mount and PID namespaces ({@code unshare --net --mount --pid}):
 * its network holds only {@code lo}, so it has no way out (a pull that succeeds came through the
 * mirror), and nothing it does to links, bridges or iptables reaches the host (a second dockerd in
 * the host's network namespace deletes the host daemon's {@code docker0}). It runs with
 * {@code --bridge=none --iptables=false}, the {@code vfs} storage driver (no overlay mounts) and
 * its own data root, exec root, pid file, {@code daemon.json} and API socket, all under the
 * directory the test gives; a tmpfs hides {@code /run/containerd} inside the namespace so that it
 * starts its own containerd rather than sharing a system one. When the namespace's first process
 * exits, the kernel kills everything left in it and its mounts go away.
 *
 * <p>The mirror is {@code http://127.0.0.1:5000} inside the namespace. A small forwarder there (a
 * JVM running {@link #main}) carries each connection over a Unix socket in that directory to this
 * JVM, which connects it to {@code 127.0.0.1:PORT} of the host, where the test's Berth listens.
 * Everything binds loopback or a file; no address outside loopback is used.
 *
 * <p>The test's {@code docker} client talks to the daemon over its socket file from outside the
 * namespace ({@link #docker}). Close it to stop the daemon and the forwarder.
 */
public final class IsolatedDockerDaemon implements AutoCloseable {
    /** The port the mirror has inside the daemon's network namespace. */
    public static final int MIRROR_PORT = 5000;
    /** The registry mirror as the daemon knows it. */
    public static final String MIRROR_URL = "http://127.0.0.1:" + MIRROR_PORT;

    private static final String READY = "forwarding";

    private final Path dir;
    private final Process namespace;
    private final ServerSocketChannel bridge;
    private final AtomicInteger connections;
    private boolean closed;

    private IsolatedDockerDaemon(Path dir, Process namespace, ServerSocketChannel bridge, AtomicInteger connections) {
        this.dir = dir;
        this.namespace = namespace;
        this.bridge = bridge;
        this.connections = connections;
    }

    /**
     * Skips the test (or fails it under {@code BERTH_REQUIRE_TOOLS=1}) unless {@code dockerd},
     * the {@code docker} client, {@code ip} and {@code unshare} are there and namespaces can be made
     * (root).
     */
    public static void requireTools() {
        RequiredTools.require(RequiredTools.run("dockerd", "--version") == 0, "dockerd (apt-get install docker.io)");
        RequiredTools.require(RequiredTools.run("docker", "--version") == 0, "the docker client (apt-get install docker.io)");
        RequiredTools.require(RequiredTools.run("ip", "-V") == 0, "ip (apt-get install iproute2)");
        RequiredTools.require(RequiredTools.run("unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "ip", "link", "set", "lo", "up") == 0,
                "unshare (util-linux) and root, to run a second dockerd in its own network, mount and PID namespaces");
    }


    /**
     * Starts the daemon with {@code registry-mirrors: [http://127.0.0.1:5000]}, that address
     * forwarded to {@code 127.0.0.1:mirrorPort} on the host, and waits until it answers.
     * {@code dir} must be short (Unix socket paths under it are limited to 107 bytes).
     */
    public static IsolatedDockerDaemon start(Path dir, int mirrorPort) throws Exception {
        requireTools();
        Files.createDirectories(dir);
        dir = dir.toAbsolutePath();
        if (dir.resolve("exec/containerd/containerd-debug.sock").toString().length() > 100) {
            throw new IllegalArgumentException("directory too long for the daemon's sockets: " + dir);
        }
        Files.writeString(dir.resolve("daemon.json"), "{\"registry-mirrors\": [\"" + MIRROR_URL + "\"]}\n");

        Path bridgeSocket = dir.resolve("mirror.sock");
        ServerSocketChannel bridge = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        bridge.bind(UnixDomainSocketAddress.of(bridgeSocket));
        AtomicInteger connections = new AtomicInteger();
        Thread acceptor = new Thread(() -> acceptLoop(bridge, connections,
                () -> SocketChannel.open(new InetSocketAddress("127.0.0.1", mirrorPort))), "dockerd-mirror-bridge");
        acceptor.setDaemon(true);
        acceptor.start();

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Inside the namespaces (sh is PID 1 there): loopback up, a private /run/containerd, the
        // forwarder, dockerd; then wait for a line (or EOF) on stdin and stop dockerd gracefully.
        String script = String.join("\n",
                "set -u",
                "ip link set lo up",
                "if [ -d /run/containerd ]; then mount -t tmpfs -o size=16m tmpfs /run/containerd; fi",
                "\"$JAVA\" -Xmx64m -XX:TieredStopAtLevel=1 -cp \"$CP\" " + IsolatedDockerDaemon.class.getName()
                        + " 127.0.0.1:" + MIRROR_PORT + " \"$D/mirror.sock\" >\"$D/forwarder.log\" 2>&1 &",
                "dockerd --config-file \"$D/daemon.json\" --data-root \"$D/data\" --exec-root \"$D/exec\""
                        + " --pidfile \"$D/docker.pid\" -H \"unix://$D/docker.sock\" --bridge=none --iptables=false"
                        + " --ip-forward=false --ip-masq=false --storage-driver=vfs >\"$D/dockerd.log\" 2>&1 &",
                "dockerd=$!",
                "read -r _ || true",
                "kill -TERM \"$dockerd\" 2>/dev/null",
                "wait \"$dockerd\"",
                "echo \"dockerd exited $?\"",
                "");
        Files.writeString(dir.resolve("namespace.sh"), script);
        ProcessBuilder pb = new ProcessBuilder("unshare", "--net", "--mount", "--pid", "--fork", "--kill-child",
                "--mount-proc", "sh", dir.resolve("namespace.sh").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("namespace.log").toFile());
        pb.environment().put("JAVA", java);
        pb.environment().put("CP", System.getProperty("java.class.path"));
        pb.environment().put("D", dir.toString());
        Process namespace;
        try {
            namespace = pb.start();
        } catch (IOException e) {
            bridge.close();
            throw e;
        }
        IsolatedDockerDaemon daemon = new IsolatedDockerDaemon(dir, namespace, bridge, connections);
        try {
            daemon.awaitReady(Duration.ofSeconds(40));
        } catch (Throwable e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    private void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean forwarding = false;
        boolean answering = false;
        while (System.nanoTime() < deadline) {
            if (!namespace.isAlive()) {
                throw new IllegalStateException("the namespace exited with " + namespace.exitValue() + ":\n" + logs());
            }
            String dockerdLog = read("dockerd.log");
            if (dockerdLog.contains("failed to start daemon") || dockerdLog.contains("level=fatal")) {
                throw new IllegalStateException("dockerd did not start:\n" + logs());
            }
            forwarding = forwarding || read("forwarder.log").contains(READY);
            answering = answering || Files.exists(dir.resolve("docker.sock")) && RequiredTools.run("docker", "-H", host(), "version") == 0;
            if (forwarding && answering) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("dockerd (" + answering + ") or the forwarder (" + forwarding
                + ") not ready within " + timeout + ":\n" + logs());
    }

    /** The daemon's API address, for {@code docker -H}. */
    public String host() {
        return "unix://" + dir.resolve("docker.sock");
    }

    /** Runs {@code docker -H <this daemon> ARGS…} (does not fail the test on its own). */
    public ExternalCommand.Result docker(Path scratch, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker", "-H", host()));
        command.addAll(List.of(args));
        return ExternalCommand.run(command, Map.of("DOCKER_CONFIG", dir.resolve("client").toString()), scratch,
                Duration.ofMinutes(2));
    }

    /** Connections the daemon opened to the mirror so far. */
    public int mirrorConnections() {
        return connections.get();
    }

    /** The end of dockerd's log (its last 40 lines), the forwarder's log and the namespace script's. */
    public String logs() {
        List<String> dockerd = read("dockerd.log").lines().toList();
        return "--- dockerd.log (end) ---\n" + String.join("\n", dockerd.subList(Math.max(0, dockerd.size() - 40), dockerd.size()))
                + "\n--- forwarder.log ---\n" + read("forwarder.log") + "\n--- namespace.log ---\n" + read("namespace.log");
    }

    private String read(String name) {
        try {
            Path file = dir.resolve(name);
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    /**
     * Stops dockerd (SIGTERM, which also stops its containerd), then the namespace; if that takes
     * too long, kills the namespace (and with it everything in it). Safe to call twice.
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        try (OutputStream stdin = namespace.getOutputStream()) {
            stdin.write("stop\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // already gone
        }
        if (!namespace.waitFor(30, TimeUnit.SECONDS)) {
            // unshare --kill-child: SIGKILL to the namespace's PID 1, so the kernel kills the rest.
            namespace.destroyForcibly();
            namespace.waitFor(30, TimeUnit.SECONDS);
        }
        try {
            bridge.close();
            Files.deleteIfExists(dir.resolve("mirror.sock"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface Connector {
        SocketChannel connect() throws IOException;
    }

    private static void acceptLoop(ServerSocketChannel server, AtomicInteger connections, Connector target) {
        while (server.isOpen()) {
            SocketChannel in;
            try {
                in = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
                continue;
            }
            connections.incrementAndGet();
            try {
                SocketChannel out = target.connect();
                AtomicInteger finished = new AtomicInteger();
                Runnable done = () -> {
                    if (finished.incrementAndGet() == 2) {
                        closeQuietly(in);
                        closeQuietly(out);
                    }
                };
                pump(in, out, done);
                pump(out, in, done);
            } catch (IOException e) {
                closeQuietly(in);
            }
        }
    }

    /**
     * Copies {@code from} to {@code to} on a new thread; at EOF half-closes {@code to} and runs
     * {@code done} (both directions done: both channels closed); on an error closes both.
     */
    private static void pump(SocketChannel from, SocketChannel to, Runnable done) {
        Thread t = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try {
                while (from.read(buffer) >= 0) {
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                    buffer.clear();
                }
                to.shutdownOutput();
                done.run();
            } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "dockerd-mirror-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /**
     * The forwarder inside the namespace: {@code HOST:PORT SOCKET}; listens on HOST:PORT and
     * carries each connection to the Unix socket.
     */
    public static void main(String[] args) throws IOException {
        String[] hostPort = args[0].split(":");
        Path socket = Path.of(args[1]);
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
        System.out.println(READY + " " + args[0] + " to " + socket);
        System.out.flush();
        acceptLoop(server, new AtomicInteger(), () -> SocketChannel.open(UnixDomainSocketAddress.of(socket)));
    }
}
