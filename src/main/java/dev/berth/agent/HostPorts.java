package dev.berth.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

/**
 * The ports this host already listens on, from {@code /proc/net/{tcp,tcp6,udp,udp6}}, as
 * {@code port/protocol}: registered as taken, so that no task is given a fixed host port that is
 * in use (Berth's own, sshd's, …). Empty where /proc is not Linux's.
 */
final class HostPorts {
    private static final String TCP_LISTEN = "0A";
    private static final String UDP_UNCONNECTED = "07";

    private HostPorts() {
    }

    static List<String> listening() {
        TreeSet<String> ports = new TreeSet<>((a, b) -> {
            int c = Integer.compare(Integer.parseInt(a.substring(0, a.indexOf('/'))), Integer.parseInt(b.substring(0, b.indexOf('/'))));
            return c != 0 ? c : a.compareTo(b);
        });
        read(Path.of("/proc/net/tcp"), TCP_LISTEN, "tcp", ports);
        read(Path.of("/proc/net/tcp6"), TCP_LISTEN, "tcp", ports);
        read(Path.of("/proc/net/udp"), UDP_UNCONNECTED, "udp", ports);
        read(Path.of("/proc/net/udp6"), UDP_UNCONNECTED, "udp", ports);
        return List.copyOf(ports);
    }

    /** Lines such as {@code 0: 00000000:1388 00000000:0000 0A …}: local address:port (hex), then state. */
    static void read(Path table, String state, String protocol, TreeSet<String> into) {
        List<String> lines;
        try {
            lines = Files.readAllLines(table);
        } catch (IOException e) {
            return;
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4 || !f[3].equals(state)) {
                continue;
            }
            int colon = f[1].lastIndexOf(':');
            try {
                int port = Integer.parseInt(f[1].substring(colon + 1), 16);
                if (port > 0) {
                    into.add(port + "/" + protocol);
                }
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                // not a table row
            }
        }
    }
}
