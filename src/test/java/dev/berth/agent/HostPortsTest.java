package dev.berth.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listening ports read from /proc/net tables: only LISTEN (tcp) and unconnected (udp) rows count. */
class HostPortsTest {
    @TempDir
    Path dir;

    @Test
    void listeningPortsAreReadFromTheKernelsTables() throws Exception {
        Path tcp = Files.writeString(dir.resolve("tcp"), String.join("\n",
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1",
                "   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2",
                "   2: 0100007F:D431 0100007F:1388 01 00000000:00000000 00:00000000 00000000     0        0 3",
                ""));
        Path udp = Files.writeString(dir.resolve("udp"), String.join("\n",
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
                "  10: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0 0",
                ""));
        TreeSet<String> ports = new TreeSet<>();
        HostPorts.read(tcp, "0A", "tcp", ports);
        HostPorts.read(udp, "07", "udp", ports);
        HostPorts.read(dir.resolve("missing"), "0A", "tcp", ports);
        assertEquals(new TreeSet<>(List.of("5000/tcp", "22/tcp", "68/udp")), ports, "the established connection is not a port taken");
    }
}
