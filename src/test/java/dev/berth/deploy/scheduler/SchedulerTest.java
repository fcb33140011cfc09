package dev.berth.deploy.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.deploy.model.PlacementConstraint;
import dev.berth.deploy.model.PlacementStrategy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Scheduler#place}: each strategy, each constraint, host ports, node status, resource
 * exhaustion within a batch, and the operator reasons given when a task does not fit.
 */
class SchedulerTest {
    private static final String GROUP = "service:web";

    // ---------------------------------------------------------------- builders

    /** A node with plenty of room unless told otherwise. */
    private static final class N {
        final String id;
        boolean active = true;
        boolean connected = true;
        int cpu = 4096;
        int memory = 4096;
        final Set<String> ports = new HashSet<>();
        final Map<String, String> attributes = new HashMap<>();
        final Map<String, Integer> groups = new HashMap<>();

        N(String id) {
            this.id = id;
        }

        N cpu(int v) {
            cpu = v;
            return this;
        }

        N mem(int v) {
            memory = v;
            return this;
        }

        N ports(String... p) {
            ports.addAll(Arrays.asList(p));
            return this;
        }

        N attr(String k, String v) {
            attributes.put(k, v);
            return this;
        }

        N group(String g, int count) {
            groups.put(g, count);
            return this;
        }

        N draining() {
            active = false;
            return this;
        }

        N disconnected() {
            connected = false;
            return this;
        }

        NodeSnapshot build() {
            return new NodeSnapshot(id, id + ".example.com", active, connected, cpu, memory, ports, attributes, groups);
        }
    }

    private static N n(String id) {
        return new N(id);
    }

    private static ClusterSnapshot cluster(N... nodes) {
        List<NodeSnapshot> list = new ArrayList<>();
        for (N node : nodes) {
            list.add(node.build());
        }
        return new ClusterSnapshot("prod", list);
    }

    private static TaskRequirements req(int cpu, int memory, List<String> ports, List<PlacementStrategy> strategies,
            List<PlacementConstraint> constraints) {
        return new TaskRequirements(GROUP, cpu, memory, ports, strategies, constraints);
    }

    private static TaskRequirements mem(int memory, PlacementStrategy... strategies) {
        return req(0, memory, List.of(), List.of(strategies), List.of());
    }

    private static PlacementStrategy spread(String field) {
        return new PlacementStrategy("spread", field);
    }

    private static PlacementStrategy binpack(String field) {
        return new PlacementStrategy("binpack", field);
    }

    private static final PlacementStrategy RANDOM = new PlacementStrategy("random", null);
    private static final PlacementConstraint DISTINCT = new PlacementConstraint("distinctInstance", null);

    private static PlacementConstraint memberOf(String expression) {
        return new PlacementConstraint("memberOf", expression);
    }

    private static Placement place(ClusterSnapshot snapshot, TaskRequirements r, int count) {
        return Scheduler.place(snapshot, r, count, new Random(1));
    }

    private static void assertPlacement(List<String> nodes, String reason, Placement actual) {
        assertEquals(nodes, actual.nodes(), "nodes");
        assertEquals(reason, actual.reason(), "reason");
    }

    // ---------------------------------------------------------------- basics

    @Test
    void zeroTasksIsAnEmptyCompletePlacement() {
        Placement p = place(cluster(n("a")), mem(128), 0);
        assertPlacement(List.of(), null, p);
        assertTrue(p.complete(0));
    }

    @Test
    void emptyClusterSaysSo() {
        Placement p = Scheduler.place(new ClusterSnapshot("staging", List.of()), mem(128), 2, new Random(1));
        assertPlacement(List.of(), "cluster staging has no nodes", p);
        assertFalse(p.complete(2));
    }

    @Test
    void placingIsPureTheSnapshotIsNotChanged() {
        ClusterSnapshot snapshot = cluster(n("a").mem(1024).ports("80/tcp"), n("b").mem(1024));
        Placement first = place(snapshot, req(0, 512, List.of("443/tcp"), null, null), 3);
        Placement second = place(snapshot, req(0, 512, List.of("443/tcp"), null, null), 3);
        assertEquals(first, second);
        assertEquals(1024, snapshot.nodes().get(0).memoryFree());
        assertEquals(Set.of("80/tcp"), snapshot.nodes().get(0).usedPorts());
        assertEquals(Map.of(), snapshot.nodes().get(1).groupCounts());
    }

    // ---------------------------------------------------------------- strategies

    static Stream<Arguments> strategies() {
        return Stream.of(
                Arguments.of("default strategy is spread by instance: round robin in id order",
                        cluster(n("a"), n("b"), n("c")), mem(128), 6, List.of("a", "b", "c", "a", "b", "c")),
                Arguments.of("spread instanceId counts the group's tasks already running (ties: node id)",
                        cluster(n("a").group(GROUP, 2), n("b"), n("c").group(GROUP, 1)),
                        mem(128, spread("instanceId")), 4, List.of("b", "b", "c", "a")),
                Arguments.of("spread instanceId ignores other groups' tasks",
                        cluster(n("a").group("service:other", 5), n("b").group(GROUP, 1)),
                        mem(128, spread("instanceId")), 2, List.of("a", "a")),
                Arguments.of("spread attribute: nodes sharing a value share a count; no attribute is its own value",
                        cluster(n("a").attr("zone", "z1"), n("b").attr("zone", "z1"), n("c").attr("zone", "z2"), n("d")),
                        mem(128, spread("attribute:zone")), 4, List.of("a", "c", "d", "a")),
                Arguments.of("spread attribute counts running tasks per value",
                        cluster(n("a").attr("zone", "z1").group(GROUP, 1), n("b").attr("zone", "z1"),
                                n("c").attr("zone", "z2")),
                        mem(128, spread("attribute:zone")), 2, List.of("c", "a")),
                Arguments.of("binpack memory: least free memory first, next node once full",
                        cluster(n("a").mem(1000), n("b").mem(3000), n("c").mem(2000)),
                        mem(512, binpack("memory")), 5, List.of("a", "c", "c", "c", "b")),
                Arguments.of("binpack cpu: least free CPU first, memory irrelevant",
                        cluster(n("a").cpu(2048).mem(100_000), n("b").cpu(1024).mem(8192), n("c").cpu(3072).mem(1024)),
                        req(512, 128, List.of(), List.of(binpack("cpu")), null), 4, List.of("b", "b", "a", "a")),
                Arguments.of("spread attribute then spread instance: the second breaks the first's ties",
                        cluster(n("a").attr("zone", "z1"), n("b").attr("zone", "z1"), n("c").attr("zone", "z2"), n("d")),
                        mem(128, spread("attribute:zone"), spread("instanceId")), 4, List.of("a", "c", "d", "b")),
                Arguments.of("spread attribute then binpack memory",
                        cluster(n("a").attr("zone", "z1").mem(3000), n("b").attr("zone", "z1").mem(1000),
                                n("c").attr("zone", "z2").mem(2000), n("d").attr("zone", "z2").mem(500)),
                        mem(256, spread("attribute:zone"), binpack("memory")), 4, List.of("d", "b", "b", "c")),
                Arguments.of("binpack memory first: spread only breaks exact ties",
                        cluster(n("a").mem(2000).group(GROUP, 1), n("b").mem(2000), n("c").mem(2000)),
                        mem(256, binpack("memory"), spread("instanceId")), 3, List.of("b", "b", "b")),
                Arguments.of("spread instance first: binpack only breaks ties",
                        cluster(n("a").mem(2000).group(GROUP, 1), n("b").mem(2000), n("c").mem(1000)),
                        mem(256, spread("instanceId"), binpack("memory")), 3, List.of("c", "b", "c")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void strategies(String name, ClusterSnapshot snapshot, TaskRequirements r, int count, List<String> expected) {
        assertPlacement(expected, null, place(snapshot, r, count));
    }

    @Test
    void randomIsDeterministicForASeedAndOnlyPicksFeasibleNodes() {
        ClusterSnapshot snapshot = cluster(n("a"), n("b").draining(), n("c"), n("d").disconnected(), n("e").mem(100),
                n("f"));
        TaskRequirements r = mem(128, RANDOM);
        Set<List<String>> distinct = new HashSet<>();
        for (long seed = 0; seed < 10; seed++) {
            Placement p = Scheduler.place(snapshot, r, 30, new Random(seed));
            assertNull(p.reason());
            assertEquals(30, p.nodes().size());
            assertEquals(p, Scheduler.place(snapshot, r, 30, new Random(seed)), "same seed, same placement");
            assertTrue(Set.of("a", "c", "f").containsAll(p.nodes()), "only feasible nodes: " + p.nodes());
            assertEquals(Set.of("a", "c", "f"), new HashSet<>(p.nodes()), "30 draws reach every feasible node");
            distinct.add(p.nodes());
        }
        assertTrue(distinct.size() > 1, "different seeds give different placements");
    }

    @Test
    void randomPicksTheFeasibleNodeWithTheSmallestDrawInIdOrder() {
        // One draw per feasible node, in snapshot order, for each task; the smallest wins.
        ClusterSnapshot snapshot = cluster(n("a"), n("b").draining(), n("c"), n("d"));
        Random expectedDraws = new Random(7);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String best = null;
            double min = 2;
            for (String id : List.of("a", "c", "d")) {
                double k = expectedDraws.nextDouble();
                if (k < min) {
                    min = k;
                    best = id;
                }
            }
            expected.add(best);
        }
        assertPlacement(expected, null, Scheduler.place(snapshot, mem(128, RANDOM), 8, new Random(7)));
    }

    @Test
    void randomAfterSpreadOnlyBreaksTies() {
        // spread ranks first: whatever the draws, each node gets its second task only after all got one.
        ClusterSnapshot snapshot = cluster(n("a"), n("b"), n("c"));
        for (long seed = 0; seed < 5; seed++) {
            List<String> nodes = Scheduler.place(snapshot, mem(128, spread("instanceId"), RANDOM), 6, new Random(seed))
                    .nodes();
            assertEquals(Set.of("a", "b", "c"), new HashSet<>(nodes.subList(0, 3)), nodes.toString());
            assertEquals(Set.of("a", "b", "c"), new HashSet<>(nodes.subList(3, 6)), nodes.toString());
        }
    }

    @Test
    void unknownStrategyIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> place(cluster(n("a")), mem(128, new PlacementStrategy("firstfit", null)), 1));
        assertEquals("unknown strategy firstfit", e.getMessage());
    }

    // ---------------------------------------------------------------- distinctInstance

    @Test
    void distinctInstanceWithinABatch() {
        ClusterSnapshot snapshot = cluster(n("a"), n("b"), n("c"));
        TaskRequirements r = req(0, 128, List.of(), List.of(binpack("memory")), List.of(DISTINCT));
        assertPlacement(List.of("a", "b", "c"), null, place(snapshot, r, 3));
        Placement p = place(snapshot, r, 4);
        assertPlacement(List.of("a", "b", "c"),
                "every ACTIVE node already runs a task of service:web (distinctInstance)", p);
        assertFalse(p.complete(4));
    }

    @Test
    void distinctInstanceAgainstTasksAlreadyRunning() {
        ClusterSnapshot snapshot = cluster(n("a").group(GROUP, 1), n("b").group("service:other", 3), n("c"));
        TaskRequirements r = req(0, 128, List.of(), null, List.of(DISTINCT));
        assertPlacement(List.of("b", "c"), "every ACTIVE node already runs a task of service:web (distinctInstance)",
                place(snapshot, r, 3));
        assertPlacement(List.of(), "every ACTIVE node already runs a task of service:web (distinctInstance)",
                place(cluster(n("a").group(GROUP, 1)), r, 1));
    }

    // ---------------------------------------------------------------- memberOf

    private static ClusterSnapshot attributed() {
        return cluster(
                n("a").attr("zone", "us-east-1a").attr("type", "m5.large").attr("gpu", "true"),
                n("b").attr("zone", "us-east-1b").attr("type", "t3.micro"),
                n("c").attr("zone", "us-east-1a").attr("type", "c5.xlarge").attr("os", "windows"),
                n("d"));
    }

    static Stream<Arguments> memberOf() {
        return Stream.of(
                Arguments.of("attribute:zone == us-east-1a", List.of("a", "c")),
                Arguments.of("attribute:zone != us-east-1a", List.of("b")), // d has no zone: false
                Arguments.of("attribute:zone in [us-east-1b, us-east-1c]", List.of("b")),
                Arguments.of("attribute:zone not_in [us-east-1b]", List.of("a", "c")), // d: false
                Arguments.of("attribute:type =~ '[mc]5\\..*'", List.of("a", "c")),
                Arguments.of("attribute:type !~ 'm5.*'", List.of("b", "c")),
                Arguments.of("attribute:gpu exists", List.of("a")),
                Arguments.of("attribute:gpu !exists", List.of("b", "c", "d")),
                Arguments.of("attribute:zone == us-east-1a and not attribute:os == windows", List.of("a")),
                Arguments.of("attribute:zone == us-east-1b or attribute:gpu exists", List.of("a", "b")),
                Arguments.of("not attribute:zone exists", List.of("d")),
                Arguments.of("(attribute:zone == us-east-1a or attribute:zone == us-east-1b) and attribute:type =~ 't3.*'",
                        List.of("b")),
                Arguments.of("instanceId in [b, d]", List.of("b", "d")),
                Arguments.of("hostname == c.example.com", List.of("c")),
                Arguments.of("attribute:zone == eu-west-1a", List.of()),
                Arguments.of("attribute:os exists or not attribute:os exists", List.of("a", "b", "c", "d")));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource
    void memberOf(String expression, List<String> matching) {
        // distinctInstance makes the batch visit every matching node once, in id order
        TaskRequirements r = req(0, 128, List.of(), null, List.of(DISTINCT, memberOf(expression)));
        Placement p = place(attributed(), r, 4);
        assertEquals(matching, p.nodes());
        // once the matching nodes each have one, distinctInstance still keeps the others; memberOf then keeps none
        assertEquals(matching.size() == 4 ? null : "no ACTIVE node matches memberOf(" + expression + ")", p.reason());
    }

    @Test
    void memberOfMatchingNothingNamesTheExpression() {
        TaskRequirements r = req(0, 128, List.of(), null, List.of(memberOf("attribute:zone == eu-west-1a")));
        assertPlacement(List.of(), "no ACTIVE node matches memberOf(attribute:zone == eu-west-1a)",
                place(attributed(), r, 1));
    }

    @Test
    void severalConstraintsAllApplyAndTheFailingOneIsNamed() {
        TaskRequirements ok = req(0, 128, List.of(), null,
                List.of(memberOf("attribute:zone == us-east-1a"), memberOf("attribute:os == windows")));
        assertPlacement(List.of("c", "c"), null, place(attributed(), ok, 2));
        TaskRequirements none = req(0, 128, List.of(), null,
                List.of(memberOf("attribute:zone == us-east-1a"), memberOf("attribute:type == t3.micro")));
        assertPlacement(List.of(), "no ACTIVE node matches memberOf(attribute:type == t3.micro)",
                place(attributed(), none, 1));
    }

    // ---------------------------------------------------------------- host ports

    @Test
    void aFixedHostPortInUseExcludesTheNode() {
        ClusterSnapshot snapshot = cluster(n("a").ports("80/tcp"), n("b").ports("443/tcp"), n("c"));
        TaskRequirements r = req(0, 128, List.of("80/tcp"), List.of(binpack("memory")), null);
        // binpack would keep everything on a; port 80 is taken there, so b (same memory, next id) then c
        assertPlacement(List.of("b", "c"), null, place(snapshot, r, 2));
    }

    @Test
    void portsAreMatchedWithTheirProtocol() {
        ClusterSnapshot snapshot = cluster(n("a").ports("53/udp"), n("b"));
        assertPlacement(List.of("a"), null, place(snapshot, req(0, 128, List.of("53/tcp"), null, null), 1));
        assertPlacement(List.of("b"), null, place(snapshot, req(0, 128, List.of("53/udp"), null, null), 1));
    }

    @Test
    void tasksOfABatchNeedingTheSamePortLandOnDifferentNodesUntilPortsRunOut() {
        ClusterSnapshot snapshot = cluster(n("a"), n("b"), n("c").ports("8080/tcp"), n("d"));
        TaskRequirements r = req(0, 128, List.of("8080/tcp"), List.of(binpack("memory")), null);
        assertPlacement(List.of("a", "b", "d"), "no ACTIVE node has host port 8080/tcp free", place(snapshot, r, 5));
    }

    @Test
    void anyOfSeveralPortsInUseExcludesTheNodeAndTheReasonListsThemAll() {
        ClusterSnapshot snapshot = cluster(n("a").ports("443/tcp"), n("b").ports("80/tcp"), n("c"));
        TaskRequirements r = req(0, 128, List.of("80/tcp", "443/tcp"), null, null);
        assertPlacement(List.of("c"), "no ACTIVE node has host ports 80/tcp, 443/tcp free", place(snapshot, r, 2));
    }

    // ---------------------------------------------------------------- node status

    @Test
    void drainingAndDisconnectedNodesGetNothing() {
        ClusterSnapshot snapshot = cluster(n("a").draining(), n("b").disconnected(), n("c").mem(1024),
                n("d").draining().disconnected());
        assertPlacement(List.of("c", "c"), null, place(snapshot, mem(512), 2));
        assertPlacement(List.of("c", "c"), "no ACTIVE node has 512 MiB memory free", place(snapshot, mem(512), 3));
    }

    static Stream<Arguments> noUsableNode() {
        return Stream.of(
                Arguments.of(cluster(n("a").draining(), n("b").draining()), "no ACTIVE node (every node is DRAINING)"),
                // draining comes first: a draining node's agent state does not matter
                Arguments.of(cluster(n("a").draining().disconnected()), "no ACTIVE node (every node is DRAINING)"),
                Arguments.of(cluster(n("a").disconnected(), n("b").disconnected()),
                        "no ACTIVE node has a connected agent"),
                Arguments.of(cluster(n("a").draining(), n("b").disconnected()), "no ACTIVE node has a connected agent"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource
    void noUsableNode(ClusterSnapshot snapshot, String reason) {
        assertPlacement(List.of(), reason, place(snapshot, mem(128), 1));
    }

    // ---------------------------------------------------------------- resources and reasons

    @Test
    void memoryRunsOutMidBatch() {
        ClusterSnapshot snapshot = cluster(n("a").mem(1024), n("b").mem(600));
        Placement p = place(snapshot, mem(512), 5);
        assertPlacement(List.of("a", "b", "a"), "no ACTIVE node has 512 MiB memory free", p);
        assertTrue(p.complete(3));
        assertFalse(p.complete(5));
    }

    @Test
    void cpuRunsOutMidBatch() {
        ClusterSnapshot snapshot = cluster(n("a").cpu(2048), n("b").cpu(1000));
        assertPlacement(List.of("a", "a"), "no ACTIVE node has 1024 CPU units free",
                place(snapshot, req(1024, 128, List.of(), null, null), 3));
    }

    @Test
    void zeroCpuTasksIgnoreCpu() {
        ClusterSnapshot snapshot = cluster(n("a").cpu(0));
        assertPlacement(List.of("a", "a"), null, place(snapshot, req(0, 128, List.of(), null, null), 2));
    }

    static Stream<Arguments> reasons() {
        return Stream.of(
                Arguments.of("memory", cluster(n("a").mem(511)), req(0, 512, List.of(), null, null),
                        "no ACTIVE node has 512 MiB memory free"),
                Arguments.of("cpu", cluster(n("a").cpu(100)), req(256, 128, List.of(), null, null),
                        "no ACTIVE node has 256 CPU units free"),
                Arguments.of("cpu is checked before memory", cluster(n("a").cpu(100).mem(10)),
                        req(256, 512, List.of(), null, null), "no ACTIVE node has 256 CPU units free"),
                Arguments.of("memory is checked before ports", cluster(n("a").mem(10).ports("80/tcp")),
                        req(0, 512, List.of("80/tcp"), null, null), "no ACTIVE node has 512 MiB memory free"),
                Arguments.of("constraints are checked before resources",
                        cluster(n("a").mem(10).attr("zone", "z1")),
                        req(0, 512, List.of(), null, List.of(memberOf("attribute:zone == z2"))),
                        "no ACTIVE node matches memberOf(attribute:zone == z2)"),
                Arguments.of("steps narrow in turn: the matching node lacks memory, another has it",
                        cluster(n("a").mem(10).attr("zone", "z1"), n("b").mem(4096).attr("zone", "z2")),
                        req(0, 512, List.of(), null, List.of(memberOf("attribute:zone == z1"))),
                        "no ACTIVE node has 512 MiB memory free"),
                Arguments.of("status is checked before constraints",
                        cluster(n("a").draining().attr("zone", "z1")),
                        req(0, 128, List.of(), null, List.of(memberOf("attribute:zone == z2"))),
                        "no ACTIVE node (every node is DRAINING)"),
                Arguments.of("one port", cluster(n("a").ports("80/tcp")), req(0, 128, List.of("80/tcp"), null, null),
                        "no ACTIVE node has host port 80/tcp free"),
                Arguments.of("draining nodes' free memory does not count",
                        cluster(n("a").draining().mem(8192), n("b").mem(100)), req(0, 512, List.of(), null, null),
                        "no ACTIVE node has 512 MiB memory free"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void reasons(String name, ClusterSnapshot snapshot, TaskRequirements r, String reason) {
        Placement p = place(snapshot, r, 1);
        assertPlacement(List.of(), reason, p);
    }
}
