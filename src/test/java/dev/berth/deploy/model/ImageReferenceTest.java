package dev.berth.deploy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.digest.Digest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link ImageReference#parse}: registry detection, tags, digests, and what is refused. */
class ImageReferenceTest {
    private static final String SHA = "sha256:" + "0123456789abcdef".repeat(4);
    private static final String OTHER_SHA = "sha256:" + "f".repeat(64);

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("nginx", null, "nginx", null, null),
                Arguments.of("nginx:1.25", null, "nginx", "1.25", null),
                Arguments.of("library/nginx:latest", null, "library/nginx", "latest", null),
                Arguments.of("team/sub/app", null, "team/sub/app", null, null),
                Arguments.of("team_a/my-app__x:V1_rc-2", null, "team_a/my-app__x", "V1_rc-2", null),
                Arguments.of("localhost/app", "localhost", "app", null, null),
                Arguments.of("localhost:5000/app:v1", "localhost:5000", "app", "v1", null),
                Arguments.of("registry.example.com/team/app", "registry.example.com", "team/app", null, null),
                Arguments.of("registry.example.com:5000/team/app:1.2.3", "registry.example.com:5000", "team/app", "1.2.3",
                        null),
                Arguments.of("my-registry:5000/app", "my-registry:5000", "app", null, null),
                Arguments.of("Registry.Example.COM/app", "Registry.Example.COM", "app", null, null),
                Arguments.of("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", null),
                Arguments.of("10.0.0.1:5000/app", "10.0.0.1:5000", "app", null, null),
                Arguments.of("app@" + SHA, null, "app", null, SHA),
                Arguments.of("app:v1@" + SHA, null, "app", "v1", SHA),
                Arguments.of("registry.example.com:5000/team/app:v1@" + SHA, "registry.example.com:5000", "team/app", "v1",
                        SHA),
                Arguments.of("localhost:5000/app@" + SHA, "localhost:5000", "app", null, SHA),
                // no slash: like docker, host:port alone is a repository with a tag
                Arguments.of("localhost:5000", null, "localhost", "5000", null),
                // a first component without dot, colon or localhost is part of the repository
                Arguments.of("myhost/app", null, "myhost/app", null, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void valid(String text, String registry, String repository, String tag, String digest) {
        ImageReference ref = ImageReference.parse(text);
        assertEquals(registry, ref.registry(), "registry");
        assertEquals(repository, ref.repository(), "repository");
        assertEquals(repository, ref.repositoryPath(), "repositoryPath");
        assertEquals(tag, ref.tag(), "tag");
        assertEquals(digest, ref.digest() == null ? null : ref.digest().toString(), "digest");
        assertEquals(text, ref.toString(), "round trip");
    }

    @Test
    void pinnedKeepsRegistryAndTag() {
        ImageReference ref = ImageReference.parse("localhost:5000/team/app:v1");
        ImageReference pinned = ref.pinned(Digest.parse(SHA));
        assertEquals(new ImageReference("localhost:5000", "team/app", "v1", Digest.parse(SHA)), pinned);
        assertEquals("localhost:5000/team/app:v1@" + SHA, pinned.toString());
        assertEquals("localhost:5000/team/app:v1@" + OTHER_SHA,
                ImageReference.parse(pinned.toString()).pinned(Digest.parse(OTHER_SHA)).toString());
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(null, "an image is required"),
                Arguments.of("", "an image is required"),
                Arguments.of("   ", "an image is required"),
                Arguments.of("a".repeat(513), "image reference longer than 512 characters"),
                Arguments.of("Nginx", "invalid repository name in image reference Nginx"
                        + " (lowercase letters, digits and separators)"),
                Arguments.of("/app", "invalid repository name in image reference /app"
                        + " (lowercase letters, digits and separators)"),
                Arguments.of("team//app", "invalid repository name in image reference team//app"
                        + " (lowercase letters, digits and separators)"),
                Arguments.of("registry.example.com/", "invalid repository name in image reference registry.example.com/"
                        + " (lowercase letters, digits and separators)"),
                Arguments.of("app:v1:v2", "invalid repository name in image reference app:v1:v2"
                        + " (lowercase letters, digits and separators)"),
                Arguments.of("app:", "invalid tag in image reference app:"),
                Arguments.of("app:-v1", "invalid tag in image reference app:-v1"),
                Arguments.of("app:" + "v".repeat(129), "invalid tag in image reference app:" + "v".repeat(129)),
                Arguments.of("-bad.example.com/app", "invalid registry host in image reference -bad.example.com/app"),
                Arguments.of("example.com:http/app", "invalid registry host in image reference example.com:http/app"),
                Arguments.of("bad_host.example.com/app", "invalid registry host in image reference bad_host.example.com/app"),
                Arguments.of("app@sha256:abc", "invalid digest in image reference app@sha256:abc: invalid sha256 digest:"
                        + " sha256:abc"),
                Arguments.of("app@", "invalid digest in image reference app@: invalid digest: "),
                Arguments.of("app@md5:" + "a".repeat(32), "invalid digest in image reference app@md5:" + "a".repeat(32)
                        + ": unsupported digest algorithm: md5"),
                Arguments.of("app@" + SHA.toUpperCase(), "invalid digest in image reference app@" + SHA.toUpperCase()
                        + ": invalid digest: " + SHA.toUpperCase()));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void invalid(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(text));
        assertEquals(message, e.getMessage());
    }
}
