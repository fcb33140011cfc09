package dev.berth.deploy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TaskDefinition#register}: defaults filled in, derived values, and each validation rule
 * naming the right field path.
 */
class TaskDefinitionTest {
    private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

    // ---------------------------------------------------------------- builders

    /** A container definition under construction; only name, image and memory set by default. */
    private static final class C {
        String name;
        String image = "busybox";
        Integer cpu;
        Integer memory = 128;
        Integer memoryReservation;
        List<PortMapping> portMappings;
        List<KeyValuePair> environment;
        List<String> command;
        List<String> entryPoint;
        Boolean essential;
        HealthCheck healthCheck;
        List<ContainerDependency> dependsOn;
        List<MountPoint> mountPoints;
        Integer stopTimeout;

        C(String name) {
            this.name = name;
        }

        C image(String v) {
            image = v;
            return this;
        }

        C cpu(Integer v) {
            cpu = v;
            return this;
        }

        C memory(Integer v) {
            memory = v;
            return this;
        }

        C reservation(Integer v) {
            memoryReservation = v;
            return this;
        }

        C ports(PortMapping... v) {
            portMappings = Arrays.asList(v);
            return this;
        }

        C env(KeyValuePair... v) {
            environment = Arrays.asList(v);
            return this;
        }

        C command(String... v) {
            command = Arrays.asList(v);
            return this;
        }

        C essential(Boolean v) {
            essential = v;
            return this;
        }

        C health(HealthCheck v) {
            healthCheck = v;
            return this;
        }

        C dependsOn(String container, String condition) {
            dependsOn = new ArrayList<>(dependsOn == null ? List.of() : dependsOn);
            dependsOn.add(new ContainerDependency(container, condition));
            return this;
        }

        C mount(String volume, String path) {
            mountPoints = List.of(new MountPoint(volume, path, null));
            return this;
        }

        C stopTimeout(Integer v) {
            stopTimeout = v;
            return this;
        }

        ContainerDefinition build() {
            return new ContainerDefinition(name, image, cpu, memory, memoryReservation, portMappings, environment, command,
                    entryPoint, essential, healthCheck, dependsOn, mountPoints, stopTimeout);
        }
    }

    private static C c(String name) {
        return new C(name);
    }

    private static PortMapping port(Integer container, Integer host, String protocol) {
        return new PortMapping(container, host, protocol);
    }

    private static HealthCheck cmd(String... command) {
        return new HealthCheck(Arrays.asList(command), null, null, null, null);
    }

    private static RegisterTaskDefinitionRequest full(String family, String mode, List<Volume> volumes, C... containers) {
        List<ContainerDefinition> list = new ArrayList<>();
        for (C container : containers) {
            list.add(container.build());
        }
        return new RegisterTaskDefinitionRequest(family, mode, volumes, list);
    }

    private static RegisterTaskDefinitionRequest request(C... containers) {
        return full("web", null, null, containers);
    }

    private static TaskDefinition register(RegisterTaskDefinitionRequest r) {
        return TaskDefinition.register(r, 3, NOW);
    }

    // ---------------------------------------------------------------- valid definitions

    @Test
    void everyDefaultIsFilledIn() {
        RegisterTaskDefinitionRequest r = full("web", null,
                List.of(new Volume("data", new Volume.Host("/srv/data")), new Volume("scratch", null)),
                c("app").image("registry.example.com:5000/team/app:1.2").memory(512)
                        .ports(port(8080, null, null), port(9090, 19090, "udp"))
                        .env(new KeyValuePair("MODE", null), new KeyValuePair("LEVEL", "debug"))
                        .health(cmd("CMD-SHELL", "curl -f http://localhost:8080/health"))
                        .mount("data", "/data")
                        .dependsOn("sidecar", "START"),
                c("sidecar").cpu(256).memory(128).reservation(64).essential(false));
        TaskDefinition td = register(r);

        assertEquals("web:3", td.taskDefinitionArn());
        assertEquals("web:3", td.key());
        assertEquals("web", td.family());
        assertEquals(3, td.revision());
        assertEquals(TaskDefinition.ACTIVE, td.status());
        assertTrue(td.active());
        assertEquals("bridge", td.networkMode());
        assertEquals(NOW, td.registeredAt());
        assertNull(td.deregisteredAt());
        assertEquals(List.of(new Volume("data", new Volume.Host("/srv/data")), new Volume("scratch", null)), td.volumes());

        ContainerDefinition app = td.containerDefinitions().get(0);
        assertEquals("app", app.name());
        assertEquals("registry.example.com:5000/team/app:1.2", app.image());
        assertTrue(app.essential());
        assertEquals(0, app.cpu());
        assertEquals(512, app.memory());
        assertNull(app.memoryReservation());
        assertEquals(30, app.stopTimeout());
        assertEquals(List.of(port(8080, 0, "tcp"), port(9090, 19090, "udp")), app.portMappings());
        assertEquals(List.of(new KeyValuePair("MODE", ""), new KeyValuePair("LEVEL", "debug")), app.environment());
        assertNull(app.command());
        assertNull(app.entryPoint());
        assertEquals(new HealthCheck(List.of("CMD-SHELL", "curl -f http://localhost:8080/health"), 30, 5, 3, 0),
                app.healthCheck());
        assertEquals(List.of(new MountPoint("data", "/data", false)), app.mountPoints());
        assertEquals(List.of(new ContainerDependency("sidecar", "START")), app.dependsOn());

        ContainerDefinition sidecar = td.containerDefinitions().get(1);
        assertFalse(sidecar.essential());
        assertEquals(256, sidecar.cpu());
        assertEquals(List.of(), sidecar.portMappings());
        assertEquals(List.of(), sidecar.environment());
        assertEquals(List.of(), sidecar.dependsOn());
        assertEquals(List.of(), sidecar.mountPoints());
        assertNull(sidecar.healthCheck());

        assertEquals(256, td.cpu());
        assertEquals(512 + 64, td.memory(), "memoryReservation is preferred over memory");
        assertEquals(List.of("19090/udp"), td.fixedHostPorts());
    }

    @Test
    void explicitValuesAreKept() {
        TaskDefinition td = register(full("api", "bridge", List.of(),
                c("app").cpu(1024).memory(null).reservation(300).essential(true).stopTimeout(120).command("serve", "--port")
                        .health(new HealthCheck(List.of("CMD", "/bin/check", "-q"), 10, 2, 10, 300))
                        .ports(port(80, 8080, "tcp"), port(53, 53, "udp"), port(53, 0, "tcp"))));
        ContainerDefinition app = td.containerDefinitions().get(0);
        assertEquals(1024, app.cpu());
        assertEquals(120, app.stopTimeout());
        assertEquals(List.of("serve", "--port"), app.command());
        assertEquals(new HealthCheck(List.of("CMD", "/bin/check", "-q"), 10, 2, 10, 300), app.healthCheck());
        assertEquals(1024, td.cpu());
        assertEquals(300, td.memory());
        assertEquals(List.of("8080/tcp", "53/udp"), td.fixedHostPorts());
        assertEquals("api:3", td.taskDefinitionArn());
    }

    @Test
    void hostModeHostPortIsTheContainerPort() {
        TaskDefinition td = register(full("web", "host", null,
                c("a").ports(port(80, null, null), port(443, 0, "tcp")),
                c("b").ports(port(53, 53, "udp"))));
        assertEquals("host", td.networkMode());
        assertEquals(List.of(port(80, 80, "tcp"), port(443, 443, "tcp")), td.containerDefinitions().get(0).portMappings());
        assertEquals(List.of("80/tcp", "443/tcp", "53/udp"), td.fixedHostPorts());
    }

    @Test
    void bridgeModeHostPortZeroOrAbsentIsDynamic() {
        TaskDefinition td = register(request(c("a").ports(port(80, null, null), port(81, 0, null))));
        assertEquals(List.of(port(80, 0, "tcp"), port(81, 0, "tcp")), td.containerDefinitions().get(0).portMappings());
        assertTrue(td.containerDefinitions().get(0).portMappings().get(0).dynamic());
        assertEquals(List.of(), td.fixedHostPorts());
    }

    @Test
    void sameHostPortOnOtherProtocolsAndDynamicPortsDoNotClash() {
        TaskDefinition td = register(request(
                c("a").ports(port(53, 53, "tcp"), port(80, 0, "tcp")),
                c("b").ports(port(53, 53, "udp"), port(81, 0, "tcp"))));
        assertEquals(List.of("53/tcp", "53/udp"), td.fixedHostPorts());
    }

    @Test
    void memoryReservationEqualToMemoryIsAllowed() {
        assertEquals(256, register(request(c("a").memory(256).reservation(256))).memory());
    }

    @Test
    void validDependencyChainsAreAccepted() {
        TaskDefinition td = register(request(
                c("app").dependsOn("db", "HEALTHY").dependsOn("init", "SUCCESS"),
                c("db").health(cmd("CMD", "pg_isready")).dependsOn("init", "COMPLETE"),
                c("init").essential(false)));
        assertEquals(3, td.containerDefinitions().size());
    }

    @Test
    void tenContainersAreAllowed() {
        C[] containers = new C[TaskDefinition.MAX_CONTAINERS];
        for (int i = 0; i < containers.length; i++) {
            containers[i] = c("c" + i);
        }
        assertEquals(10, register(request(containers)).containerDefinitions().size());
    }

    @Test
    void deregisteredKeepsEverythingButStatus() {
        TaskDefinition td = register(request(c("a")));
        Instant later = NOW.plusSeconds(60);
        TaskDefinition gone = td.deregistered(later);
        assertEquals(TaskDefinition.INACTIVE, gone.status());
        assertFalse(gone.active());
        assertEquals(later, gone.deregisteredAt());
        assertEquals(NOW, gone.registeredAt());
        assertEquals(td.containerDefinitions(), gone.containerDefinitions());
        assertEquals(td.taskDefinitionArn(), gone.taskDefinitionArn());
    }

    // ---------------------------------------------------------------- invalid definitions

    private static C[] many(int n) {
        C[] containers = new C[n];
        for (int i = 0; i < n; i++) {
            containers[i] = c("c" + i);
        }
        return containers;
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // the task
                Arguments.of("family missing", full(null, null, null, c("a")), "family"),
                Arguments.of("family with a space", full("my app", null, null, c("a")), "family"),
                Arguments.of("family checked first", full("", "awsvpc", null, c("a").memory(null)), "family"),
                Arguments.of("networkMode awsvpc", full("web", "awsvpc", null, c("a")), "networkMode"),
                Arguments.of("networkMode none", full("web", "none", null, c("a")), "networkMode"),
                Arguments.of("volume name used twice",
                        full("web", null, List.of(new Volume("v", null), new Volume("w", null), new Volume("v", null)),
                                c("a")),
                        "volumes[2].name"),
                Arguments.of("volume name invalid", full("web", null, List.of(new Volume("a/b", null)), c("a")),
                        "volumes[0].name"),
                Arguments.of("volume sourcePath relative",
                        full("web", null, List.of(new Volume("v", new Volume.Host("srv/data"))), c("a")),
                        "volumes[0].host.sourcePath"),
                Arguments.of("containerDefinitions missing", new RegisterTaskDefinitionRequest("web", null, null, null),
                        "containerDefinitions"),
                Arguments.of("no containers", request(), "containerDefinitions"),
                Arguments.of("more than 10 containers", request(many(11)), "containerDefinitions"),
                Arguments.of("no essential container", request(c("a").essential(false), c("b").essential(false)),
                        "containerDefinitions"),
                // names and images
                Arguments.of("container name missing", request(c(null)), "containerDefinitions[0].name"),
                Arguments.of("container name invalid", request(c("a"), c("b.c")), "containerDefinitions[1].name"),
                Arguments.of("duplicate container names", request(c("a"), c("a")), "containerDefinitions[1].name"),
                Arguments.of("image missing", request(c("a").image(null)), "containerDefinitions[0].image"),
                Arguments.of("image with uppercase repository", request(c("a").image("Team/App")),
                        "containerDefinitions[0].image"),
                Arguments.of("image with bad digest", request(c("a"), c("b").image("app@sha256:abc")),
                        "containerDefinitions[1].image"),
                // resources
                Arguments.of("memory missing", request(c("a").memory(null)), "containerDefinitions[0].memory"),
                Arguments.of("memory below 6 MiB", request(c("a").memory(4)), "containerDefinitions[0].memory"),
                Arguments.of("memoryReservation below 6 MiB", request(c("a").memory(null).reservation(5)),
                        "containerDefinitions[0].memoryReservation"),
                Arguments.of("memoryReservation above memory", request(c("a").memory(128).reservation(256)),
                        "containerDefinitions[0].memoryReservation"),
                Arguments.of("negative cpu", request(c("a").cpu(-1)), "containerDefinitions[0].cpu"),
                Arguments.of("stopTimeout below 2", request(c("a").stopTimeout(1)), "containerDefinitions[0].stopTimeout"),
                Arguments.of("stopTimeout above 120", request(c("a").stopTimeout(121)),
                        "containerDefinitions[0].stopTimeout"),
                // ports
                Arguments.of("hostPort out of range", request(c("a").ports(port(80, 8080, null), port(81, 70000, null))),
                        "containerDefinitions[0].portMappings[1].hostPort"),
                Arguments.of("negative hostPort", request(c("a").ports(port(80, -1, null))),
                        "containerDefinitions[0].portMappings[0].hostPort"),
                Arguments.of("containerPort missing", request(c("a").ports(port(null, 80, null))),
                        "containerDefinitions[0].portMappings[0].containerPort"),
                Arguments.of("containerPort 0", request(c("a").ports(port(0, null, null))),
                        "containerDefinitions[0].portMappings[0].containerPort"),
                Arguments.of("containerPort 65536", request(c("a").ports(port(65536, null, null))),
                        "containerDefinitions[0].portMappings[0].containerPort"),
                Arguments.of("protocol sctp", request(c("a").ports(port(80, null, null), port(81, null, "sctp"))),
                        "containerDefinitions[0].portMappings[1].protocol"),
                Arguments.of("protocol in uppercase", request(c("a").ports(port(80, null, "TCP"))),
                        "containerDefinitions[0].portMappings[0].protocol"),
                Arguments.of("host mode hostPort differs from containerPort",
                        full("web", "host", null, c("a").ports(port(80, 8080, null))),
                        "containerDefinitions[0].portMappings[0].hostPort"),
                Arguments.of("container port mapped twice", request(c("a").ports(port(80, 8080, null), port(80, 8081, null))),
                        "containerDefinitions[0].portMappings[1].containerPort"),
                Arguments.of("host port mapped twice in one container",
                        request(c("a").ports(port(80, 8080, null), port(81, 8080, null))),
                        "containerDefinitions[0].portMappings[1].hostPort"),
                Arguments.of("host port mapped twice across containers",
                        request(c("a").ports(port(80, 8080, null)), c("b").ports(port(81, 0, null), port(82, 8080, "tcp"))),
                        "containerDefinitions[1].portMappings[1].hostPort"),
                Arguments.of("host mode: same container port in two containers",
                        full("web", "host", null, c("a").ports(port(80, null, null)), c("b").ports(port(80, null, null))),
                        "containerDefinitions[1].portMappings[0].hostPort"),
                // environment and command
                Arguments.of("environment name invalid", request(c("a").env(new KeyValuePair("1BAD", "x"))),
                        "containerDefinitions[0].environment[0].name"),
                Arguments.of("environment name twice",
                        request(c("a").env(new KeyValuePair("A", "1"), new KeyValuePair("A", "2"))),
                        "containerDefinitions[0].environment[1].name"),
                Arguments.of("null command element", request(c("a").command("run", null)),
                        "containerDefinitions[0].command[1]"),
                // health checks
                Arguments.of("healthCheck without CMD", request(c("a").health(cmd("curl", "-f", "http://x"))),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck with lowercase cmd", request(c("a").health(cmd("cmd", "true"))),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck CMD alone", request(c("a").health(cmd("CMD"))),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck CMD-SHELL with two strings", request(c("a").health(cmd("CMD-SHELL", "a", "b"))),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck empty command", request(c("a").health(cmd())),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck command missing",
                        request(c("a").health(new HealthCheck(null, null, null, null, null))),
                        "containerDefinitions[0].healthCheck.command"),
                Arguments.of("healthCheck interval below 5",
                        request(c("a").health(new HealthCheck(List.of("CMD", "true"), 4, null, null, null))),
                        "containerDefinitions[0].healthCheck.interval"),
                Arguments.of("healthCheck retries 0",
                        request(c("a").health(new HealthCheck(List.of("CMD", "true"), null, null, 0, null))),
                        "containerDefinitions[0].healthCheck.retries"),
                // dependencies
                Arguments.of("dependsOn an unknown container", request(c("a").dependsOn("db", "START")),
                        "containerDefinitions[0].dependsOn[0].containerName"),
                Arguments.of("dependsOn itself", request(c("a"), c("b").dependsOn("a", "START").dependsOn("b", "START")),
                        "containerDefinitions[1].dependsOn[1].containerName"),
                Arguments.of("dependsOn HEALTHY without a healthCheck", request(c("a"), c("b").dependsOn("a", "HEALTHY")),
                        "containerDefinitions[1].dependsOn[0].condition"),
                Arguments.of("dependsOn unknown condition", request(c("a").dependsOn("b", "READY"), c("b")),
                        "containerDefinitions[0].dependsOn[0].condition"),
                Arguments.of("dependsOn containerName missing", request(c("a").dependsOn(null, "START")),
                        "containerDefinitions[0].dependsOn[0].containerName"),
                Arguments.of("dependsOn cycle of two", request(c("a").dependsOn("b", "START"), c("b").dependsOn("a", "START")),
                        "containerDefinitions[0].dependsOn"),
                Arguments.of("dependsOn cycle of three",
                        request(c("x"), c("a").dependsOn("c", "START"), c("b").dependsOn("a", "START"),
                                c("c").dependsOn("b", "COMPLETE")),
                        "containerDefinitions[1].dependsOn"),
                // mounts
                Arguments.of("mountPoint names an unknown volume",
                        full("web", null, List.of(new Volume("data", null)), c("a").mount("logs", "/logs")),
                        "containerDefinitions[0].mountPoints[0].sourceVolume"),
                Arguments.of("mountPoint without volumes", request(c("a"), c("b").mount("data", "/data")),
                        "containerDefinitions[1].mountPoints[0].sourceVolume"),
                Arguments.of("mountPoint containerPath relative",
                        full("web", null, List.of(new Volume("data", null)), c("a").mount("data", "data")),
                        "containerDefinitions[0].mountPoints[0].containerPath"));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource
    void invalid(String name, RegisterTaskDefinitionRequest request, String field) {
        FieldException e = assertThrows(FieldException.class, () -> register(request));
        assertEquals(field, e.field(), e.getMessage());
    }

    static Stream<Arguments> messages() {
        return Stream.of(
                Arguments.of(full("web", "awsvpc", null, c("a")), "networkMode must be bridge or host, not awsvpc"),
                Arguments.of(request(many(11)), "containerDefinitions must hold 1 to 10 containers"),
                Arguments.of(request(c("a").essential(false)), "at least one container must be essential"),
                Arguments.of(request(c("a"), c("a")), "containerDefinitions[1].name a is used by two containers"),
                Arguments.of(request(c("a").ports(port(80, 8080, null)), c("b").ports(port(81, 8080, null))),
                        "host port 8080/tcp is mapped twice in the task (containers a and b)"),
                Arguments.of(request(c("a").memory(128).reservation(256)),
                        "containerDefinitions[0].memoryReservation (256) must not exceed memory (128)"),
                Arguments.of(request(c("a").ports(port(80, 70000, null))),
                        "containerDefinitions[0].portMappings[0].hostPort must be between 0 and 65535, not 70000"),
                Arguments.of(request(c("a").health(cmd("curl"))),
                        "containerDefinitions[0].healthCheck.command must start with CMD or CMD-SHELL"),
                Arguments.of(request(c("a").dependsOn("db", "START")), "container db is not in the task"),
                Arguments.of(request(c("a").dependsOn("a", "START")), "container a cannot depend on itself"),
                Arguments.of(request(c("a"), c("b").dependsOn("a", "HEALTHY")),
                        "condition HEALTHY needs a healthCheck on container a"),
                Arguments.of(request(c("a").dependsOn("b", "START"), c("b").dependsOn("a", "START")),
                        "dependsOn forms a cycle through container a"),
                Arguments.of(request(c("a").mount("logs", "/logs")), "volume logs is not defined in volumes"),
                Arguments.of(request(c("a").image("Team/App")),
                        "containerDefinitions[0].image: invalid repository name in image reference Team/App"
                                + " (lowercase letters, digits and separators)"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource
    void messages(RegisterTaskDefinitionRequest request, String message) {
        assertEquals(message, assertThrows(FieldException.class, () -> register(request)).getMessage());
    }

    @Test
    void cycleIsReportedOnAContainerOfTheCycle() {
        FieldException e = assertThrows(FieldException.class, () -> register(request(
                c("a").dependsOn("b", "START"), c("b").dependsOn("c", "START"), c("c").dependsOn("b", "START"))));
        assertEquals("containerDefinitions[1].dependsOn", e.field());
        assertEquals("dependsOn forms a cycle through container b", e.getMessage());
    }
}
