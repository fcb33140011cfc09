package dev.berth.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {
    @Test
    void dockerHubsBearerChallenge() {
        List<AuthChallenge> c = AuthChallenge.parse("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"");
        assertEquals(1, c.size());
        assertTrue(c.get(0).isBearer());
        assertEquals(Map.of("realm", "https://auth.docker.io/token", "service", "registry.docker.io",
                "scope", "repository:library/alpine:pull"), c.get(0).params());
    }

    @Test
    void basicChallengeAndCaseInsensitiveNames() {
        List<AuthChallenge> c = AuthChallenge.parse("Basic Realm=\"berth test\"");
        assertTrue(c.get(0).isBasic());
        assertEquals("berth test", c.get(0).param("realm").orElseThrow());
    }

    @Test
    void severalChallengesUnquotedValuesSpacesAndEscapes() {
        List<AuthChallenge> c = AuthChallenge.parse(
                "Basic realm=\"a\\\"b\" , Bearer realm=http://h:1/token, service=s ,scope=\"x,y\"");
        assertEquals(2, c.size());
        assertEquals("a\"b", c.get(0).param("realm").orElseThrow());
        assertEquals("Bearer", c.get(1).scheme());
        assertEquals("http://h:1/token", c.get(1).param("realm").orElseThrow());
        assertEquals("s", c.get(1).param("service").orElseThrow());
        assertEquals("x,y", c.get(1).param("scope").orElseThrow());
    }

    @Test
    void schemeWithoutParametersAndGarbage() {
        assertEquals(List.of(new AuthChallenge("Negotiate", Map.of())), AuthChallenge.parse("Negotiate"));
        assertEquals(List.of(), AuthChallenge.parse(null));
        assertEquals(List.of(), AuthChallenge.parse(""));
        assertEquals(List.of(), AuthChallenge.parse("Bearer realm=\"unterminated"));
        assertEquals(List.of(), AuthChallenge.parse("\"quoted\""));
    }
}
