package dev.berth.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The shipped example configurations stay valid and say what their comments claim. */
class ConfigExamplesTest {
    private final ConfigLoader loader = new ConfigLoader();

    @Test
    void everyExampleLoads() throws Exception {
        List<Path> examples;
        try (Stream<Path> files = Files.list(Path.of("config", "examples"))) {
            examples = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(examples.isEmpty());
        for (Path example : examples) {
            loader.load(example, true, Map.of(), Map.of());
        }
    }

    @Test
    void examplesDifferFromTheDefaultsWhereTheySay() {
        BerthConfig single = loader.load(Path.of("config/examples/single-host.yaml"), true, Map.of(), Map.of());
        assertEquals("/var/lib/berth", single.storage().root());
        assertEquals("json", single.log().format());
        BerthConfig throwaway = loader.load(Path.of("config/examples/throwaway.yaml"), true, Map.of(), Map.of());
        assertEquals("inmemory", throwaway.storage().driver());
        assertTrue(!throwaway.log().requests());
        BerthConfig s3 = loader.load(Path.of("config/examples/s3.yaml"), true, Map.of(), Map.of());
        assertEquals("s3", s3.storage().driver());
        assertEquals("registry-blobs", s3.storage().s3().bucket());
        assertEquals(16L << 20, s3.storage().s3().partSize().bytes());
        assertTrue(s3.storage().s3().pathStyle());
        BerthConfig mirror = loader.load(Path.of("config/examples/mirror.yaml"), true, Map.of(), Map.of());
        assertEquals(2, mirror.mirror().upstreams().size());
        assertTrue(mirror.mirror().upstreams().get(0).isDefault());
    }
}
