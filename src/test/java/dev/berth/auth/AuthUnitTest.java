package dev.berth.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.berth.config.BerthConfig.AccessRuleConfig;
import dev.berth.config.BerthConfig.AdminsConfig;
import dev.berth.config.BerthConfig.AuthConfig;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pieces authentication is built from, without a server: repository globs, Docker scopes, the
 * users and group files, the access rules (CI tokens included) and the token signer's checks.
 */
class AuthUnitTest {
    @TempDir
    Path tmp;

    private static String bcrypt(String version, String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return OpenBSDBCrypt.generate(version, password.toCharArray(), salt, 4);
    }

    @Nested
    class Globs {
        @Test
        void singleStarStaysWithinOneSegmentAndDoubleStarCrossesThem() {
            RepositoryGlob one = RepositoryGlob.of("team/*");
            assertTrue(one.matches("team/app"));
            assertFalse(one.matches("team/a/b"));
            assertFalse(one.matches("team"));
            assertFalse(one.matches("other/team/app"));

            RepositoryGlob any = RepositoryGlob.of("team/**");
            assertTrue(any.matches("team/app"));
            assertTrue(any.matches("team/a/b/c"));
            assertFalse(any.matches("team"));
            assertFalse(any.matches("teams/app"));
            assertFalse(any.matches("x/team/app"));

            assertTrue(RepositoryGlob.of("**").matches("a/b/c"));
            assertTrue(RepositoryGlob.of("*").matches("alpine"));
            assertFalse(RepositoryGlob.of("*").matches("library/alpine"));
            assertTrue(RepositoryGlob.of("*/app").matches("team/app"));
            assertFalse(RepositoryGlob.of("*/app").matches("a/b/app"));
        }

        @Test
        void aGlobWithoutStarsMatchesOnlyTheWholeName() {
            RepositoryGlob exact = RepositoryGlob.of("team/app");
            assertTrue(exact.matches("team/app"));
            assertFalse(exact.matches("team/app2"));
            assertFalse(exact.matches("team/app/sub"));
            assertFalse(exact.matches("myteam/app"));
            assertFalse(exact.matches("team"));
            assertFalse(exact.matches(null));
            // '.' is a literal, not a regex wildcard
            assertTrue(RepositoryGlob.of("a.b").matches("a.b"));
            assertFalse(RepositoryGlob.of("a.b").matches("axb"));
        }

        @Test
        void malformedGlobsAreRefusedWithTheGlobInTheMessage() {
            for (String bad : List.of("", "Team/app", "team/[a]", "team app", "team/+")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepositoryGlob.of(bad));
                assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> RepositoryGlob.of(null));
        }
    }

    @Nested
    class Scopes {
        @Test
        void repositoryScopeWithSeveralActions() {
            Scope s = Scope.parse("repository:a/b:pull,push");
            assertEquals(new Scope("repository", "a/b", Set.of("pull", "push")), s);
            assertEquals(List.of("pull", "push"), List.copyOf(s.actions()), "actions keep their order");
            assertEquals("repository:a/b:pull,push", s.toString());
        }

        @Test
        void catalogScopeAndResourceClassAndHostPortInTheName() {
            assertEquals(new Scope("registry", "catalog", Set.of("*")), Scope.parse("registry:catalog:*"));
            assertEquals(new Scope("repository", "x", Set.of("pull")), Scope.parse("repository(plugin):x:pull"));
            assertEquals(new Scope("repository", "localhost:5000/team/app", Set.of("pull")),
                    Scope.parse("repository:localhost:5000/team/app:pull"));
        }

        @Test
        void malformedScopesAreNull() {
            for (String bad : List.of("", "repository", "repository:a", "repository::pull", ":a:pull", "repository:a:",
                    "repository:a: , ")) {
                assertNull(Scope.parse(bad), bad);
            }
        }

        @Test
        void parseAllSplitsOnSpacesAndSkipsMalformedOnes() {
            assertEquals(List.of(new Scope("repository", "a", Set.of("pull")), new Scope("registry", "catalog", Set.of("*")),
                            new Scope("repository", "b", Set.of("push"))),
                    Scope.parseAll(List.of("repository:a:pull  registry:catalog:*", "bogus", "repository:b:push")));
        }
    }

    @Nested
    class UserFiles {
        @Test
        void aVerifiedPasswordIsKnownWithoutBcryptUntilTheHashChanges() throws Exception {
            Users users = Users.load(tmp.resolve("htpasswd"), tmp.resolve("groups"));
            users.setPassword("alice", "alice-pw-1");
            assertFalse(users.verifiedRecently("alice", "alice-pw-1"), "not checked yet");
            assertTrue(users.verify("alice", "alice-pw-1"));
            assertTrue(users.verifiedRecently("alice", "alice-pw-1"));
            assertFalse(users.verifiedRecently("alice", "alice-pw-2"));
            assertFalse(users.verifiedRecently("bob", "alice-pw-1"));
            users.setPassword("alice", "alice-pw-2");
            assertFalse(users.verifiedRecently("alice", "alice-pw-1"), "a new hash forgets the old password");
            assertFalse(users.verify("alice", "alice-pw-1"));
        }

        @Test
        void htpasswdWithEachBcryptVersionVerifies() throws Exception {
            Path htpasswd = tmp.resolve("htpasswd");
            Files.writeString(htpasswd, "# comment\n\nalice:" + bcrypt("2a", "alice-pw-1") + "\nbob:"
                    + bcrypt("2b", "bob-pw-123") + "\n  carol:" + bcrypt("2y", "carol-pw-1") + "  \n");
            Users users = Users.load(htpasswd, tmp.resolve("groups"));
            assertEquals(List.of("alice", "bob", "carol"), users.names());
            assertTrue(users.verify("alice", "alice-pw-1"));
            assertTrue(users.verify("bob", "bob-pw-123"));
            assertTrue(users.verify("carol", "carol-pw-1"));
            assertFalse(users.verify("alice", "bob-pw-123"));
            assertFalse(users.verify("alice", "alice-pw-1 "));
            assertFalse(users.verify("alice", ""));
            assertFalse(users.verify("nobody", "alice-pw-1"));
            assertFalse(users.verify(null, "alice-pw-1"));
            assertTrue(users.exists("bob"));
            assertFalse(users.exists("nobody"));
            // A remembered success is still only for the right password.
            assertTrue(users.verify("alice", "alice-pw-1"));
            assertFalse(users.verify("alice", "alice-pw-2"));
        }

        @Test
        void nonBcryptLinesAreRefusedNamingTheLine() throws Exception {
            Path htpasswd = tmp.resolve("htpasswd");
            Files.writeString(htpasswd, "alice:" + bcrypt("2y", "alice-pw-1") + "\n# md5 from htpasswd -m:\n"
                    + "bob:$apr1$abcdefgh$0123456789abcdefghijkl\n");
            IOException e = assertThrows(IOException.class, () -> Users.load(htpasswd, tmp.resolve("groups")));
            assertTrue(e.getMessage().contains("line 3"), e.getMessage());
            assertTrue(e.getMessage().contains("bob"), e.getMessage());

            Files.writeString(htpasswd, "alice\n");
            e = assertThrows(IOException.class, () -> Users.load(htpasswd, tmp.resolve("groups")));
            assertTrue(e.getMessage().contains("line 1"), e.getMessage());

            Files.writeString(htpasswd, "carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
            e = assertThrows(IOException.class, () -> Users.load(htpasswd, tmp.resolve("groups")));
            assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("carol"), e.getMessage());
        }

        @Test
        void missingFilesAreEmpty() throws Exception {
            Users users = Users.load(tmp.resolve("none/htpasswd"), tmp.resolve("none/groups"));
            assertEquals(List.of(), users.names());
            assertFalse(users.verify("alice", "whatever-pw"));
            assertFalse(users.reloadIfChanged());
        }

        @Test
        void groupFileLinesNameTheirMembers() throws Exception {
            Path groups = tmp.resolve("groups");
            Files.writeString(groups, "# groups\nadmin: root\nteam: alice bob\nops:alice,carol\nempty:\n");
            Users users = Users.load(tmp.resolve("htpasswd"), groups);
            assertEquals(Set.of("admin"), users.groupsOf("root"));
            assertEquals(Set.of("team", "ops"), users.groupsOf("alice"));
            assertEquals(Set.of("team"), users.groupsOf("bob"));
            assertEquals(Set.of("ops"), users.groupsOf("carol"));
            assertEquals(Set.of(), users.groupsOf("dave"));
            assertEquals(Set.of(), users.groups().get("empty"));

            Files.writeString(groups, "team alice\n");
            IOException e = assertThrows(IOException.class, () -> Users.load(tmp.resolve("htpasswd"), groups));
            assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        }

        @Test
        void reloadIfChangedPicksUpEditsAndKeepsTheOldOnesWhenTheFileBreaks() throws Exception {
            Path htpasswd = tmp.resolve("htpasswd");
            Path groups = tmp.resolve("groups");
            Files.writeString(htpasswd, "alice:" + bcrypt("2y", "alice-pw-1") + "\n");
            Users users = Users.load(htpasswd, groups);
            assertFalse(users.reloadIfChanged(), "nothing changed");

            Files.writeString(htpasswd, "alice:" + bcrypt("2y", "alice-pw-2") + "\nbob:" + bcrypt("2y", "bob-pw-123") + "\n");
            touchLater(htpasswd);
            assertTrue(users.reloadIfChanged());
            assertFalse(users.verify("alice", "alice-pw-1"));
            assertTrue(users.verify("alice", "alice-pw-2"));
            assertTrue(users.exists("bob"));
            assertFalse(users.reloadIfChanged());

            Files.writeString(groups, "team: bob\n");
            assertTrue(users.reloadIfChanged(), "a new group file is a change");
            assertEquals(Set.of("team"), users.groupsOf("bob"));

            Files.writeString(htpasswd, "garbage\n");
            touchLater(htpasswd);
            assertThrows(IOException.class, users::reloadIfChanged);
            assertTrue(users.verify("bob", "bob-pw-123"), "a broken file keeps what was read before");
        }

        /** Moves the modification time on, so that two writes within one timestamp tick still count as a change. */
        private static void touchLater(Path file) throws IOException {
            Files.setLastModifiedTime(file, FileTime.from(Files.getLastModifiedTime(file).toInstant().plusSeconds(2)));
        }

        @Test
        void editingWritesPrivateFilesAndRemovingAUserDropsTheirMemberships() throws Exception {
            Path htpasswd = tmp.resolve("auth/htpasswd");
            Path groups = tmp.resolve("auth/groups");
            Users users = Users.load(htpasswd, groups);
            users.setPassword("alice", "alice-pw-1");
            users.setPassword("bob", "bob-pw-123");
            users.setGroups("alice", Set.of("team", "ops"));
            users.setGroups("bob", Set.of("team"));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(htpasswd)));
            assertTrue(Files.readString(htpasswd).matches("(?s)alice:\\$2y\\$10\\$.{53}\nbob:\\$2y\\$10\\$.{53}\n"),
                    Files.readString(htpasswd));
            assertEquals("ops: alice\nteam: alice bob\n", Files.readString(groups));

            assertTrue(users.remove("alice"));
            assertFalse(users.remove("alice"));
            assertFalse(Files.readString(groups).contains("alice"), Files.readString(groups));
            assertTrue(Files.readString(groups).contains("team: bob\n"), Files.readString(groups));
            assertEquals(List.of("bob"), users.names());
            assertEquals(Set.of(), users.groupsOf("alice"));
            assertFalse(users.verify("alice", "alice-pw-1"));
            // What the files hold now is what another reader sees.
            Users again = Users.load(htpasswd, groups);
            assertTrue(again.verify("bob", "bob-pw-123"));
            assertEquals(Set.of("team"), again.groupsOf("bob"));

            assertThrows(IllegalArgumentException.class, () -> users.setPassword("bad name", "whatever-pw"));
            assertThrows(IllegalArgumentException.class, () -> users.setGroups("bob", Set.of("with space")));
        }

        @Test
        void passwordStampChangesWithThePasswordOnly() throws Exception {
            Users users = Users.load(tmp.resolve("htpasswd"), tmp.resolve("groups"));
            users.setPassword("alice", "alice-pw-1");
            String stamp = users.passwordStamp("alice");
            assertNotNull(stamp);
            assertEquals(16, stamp.length());
            users.setGroups("alice", Set.of("team"));
            assertEquals(stamp, users.passwordStamp("alice"), "group changes keep the stamp");
            users.setPassword("alice", "alice-pw-1");
            assertNotEquals(stamp, users.passwordStamp("alice"), "a new hash (new salt) is a new stamp");
            assertNull(users.passwordStamp("nobody"));
            assertNull(users.passwordStamp(null));
            users.remove("alice");
            assertNull(users.passwordStamp("alice"));
        }
    }

    @Nested
    class Rules {
        private Users users;
        private AccessControl access;

        private void setUp() throws IOException {
            Path htpasswd = tmp.resolve("htpasswd");
            // Hashes of cost 4: these tests never verify passwords, only membership.
            Files.writeString(htpasswd, "root:" + bcrypt("2y", "x") + "\nalice:" + bcrypt("2y", "x") + "\nbob:"
                    + bcrypt("2y", "x") + "\nboss:" + bcrypt("2y", "x") + "\n");
            Files.writeString(tmp.resolve("groups"), "admin: root\nteam: alice\n");
            users = Users.load(htpasswd, tmp.resolve("groups"));
            AuthConfig config = new AuthConfig("token", null, null, null, null,
                    new AdminsConfig(List.of("boss"), null),
                    List.of(new AccessRuleConfig(List.of("team/**"), null, List.of("team"), null, List.of("pull", "push")),
                            new AccessRuleConfig(List.of("team/app"), List.of("alice"), null, null, List.of("delete")),
                            new AccessRuleConfig(List.of("public/**"), null, null, true, List.of("pull")),
                            new AccessRuleConfig(List.of("base/*"), List.of("*"), null, null, List.of("pull")),
                            new AccessRuleConfig(List.of("bob/**"), List.of("bob"), null, null, List.of("*"))),
                    null, null, null);
            access = new AccessControl(config, users);
        }

        private Principal user(String name) {
            return Principal.user(name, users.groupsOf(name));
        }

        @Test
        void adminsByGroupOrNameMayDoEverything() throws Exception {
            setUp();
            for (String admin : List.of("root", "boss")) {
                assertEquals(AccessControl.ALL, access.allowed(user(admin), "anything/at/all"), admin);
                assertTrue(access.catalog(user(admin)), admin);
                assertTrue(access.api(user(admin)), admin);
            }
            assertFalse(access.catalog(user("alice")));
            assertFalse(access.api(user("alice")));
            assertFalse(access.catalog(Principal.ANONYMOUS));
            assertFalse(access.api(Principal.ANONYMOUS));
        }

        @Test
        void rulesAddUpPerUserGroupStarAndAnonymous() throws Exception {
            setUp();
            Principal alice = user("alice");
            assertEquals(Set.of("pull", "push", "delete"), access.allowed(alice, "team/app"), "group rule + user rule");
            assertEquals(Set.of("pull", "push"), access.allowed(alice, "team/other"));
            assertEquals(Set.of("pull", "push"), access.allowed(alice, "team/a/b"));
            assertEquals(Set.of("pull"), access.allowed(alice, "public/x"), "anonymous rules hold for users too");
            assertEquals(Set.of("pull"), access.allowed(alice, "base/alpine"), "\"*\": any signed-in user");
            assertEquals(Set.of(), access.allowed(alice, "base/a/b"));
            assertEquals(Set.of(), access.allowed(alice, "bob/x"));
            assertEquals(Set.of(), access.allowed(alice, "teamx/app"));

            Principal bob = user("bob");
            assertEquals(Set.of(), access.allowed(bob, "team/app"));
            assertEquals(AccessControl.ALL, access.allowed(bob, "bob/x"), "\"*\" actions are all three");
            assertEquals(Set.of("pull"), access.allowed(bob, "base/alpine"));

            assertEquals(Set.of("pull"), access.allowed(Principal.ANONYMOUS, "public/x/y"));
            assertEquals(Set.of(), access.allowed(Principal.ANONYMOUS, "base/alpine"), "\"*\" is not anonymous");
            assertEquals(Set.of(), access.allowed(Principal.ANONYMOUS, "team/app"));
            // The group comes from the principal: alice signed in without her group gets only her own rules.
            assertEquals(Set.of("delete"), access.allowed(Principal.user("alice", Set.of()), "team/app"));
        }

        @Test
        void ciTokenGetsTheIntersectionOfItsGrantsAndItsOwnersRightsAndNothingOnceTheOwnerIsGone() throws Exception {
            setUp();
            Principal token = new Principal(Principal.Kind.CI_TOKEN, "alice", Set.of(),
                    List.of(new Principal.Grant("repository", "team/**", Set.of("pull", "delete")),
                            new Principal.Grant("repository", "bob/**", Set.of("pull", "push"))), false, "abc");
            assertEquals(Set.of("pull", "delete"), access.allowed(token, "team/app"));
            assertEquals(Set.of("pull"), access.allowed(token, "team/other"), "alice may not delete there");
            assertEquals(Set.of(), access.allowed(token, "bob/x"), "alice may not touch bob/**");
            assertEquals(Set.of(), access.allowed(token, "public/x"), "outside the token's globs");
            assertFalse(access.catalog(token));
            assertFalse(access.api(token));

            Principal adminToken = new Principal(Principal.Kind.CI_TOKEN, "root", Set.of(), List.of(), true, "def");
            assertTrue(access.api(adminToken));
            assertTrue(access.catalog(adminToken));
            assertEquals(Set.of(), access.allowed(adminToken, "team/app"), "an API token without repositories");
            Principal notApi = new Principal(Principal.Kind.CI_TOKEN, "root", Set.of(), List.of(), false, "ghi");
            assertFalse(access.api(notApi));
            Principal userApi = new Principal(Principal.Kind.CI_TOKEN, "alice", Set.of(), List.of(), true, "jkl");
            assertFalse(access.api(userApi), "api:true is worth nothing from a non-admin");

            // The owner's groups are looked up now, not when the token was made.
            users.setGroups("alice", Set.of());
            assertEquals(Set.of("delete"), access.allowed(token, "team/app"));
            users.remove("alice");
            assertEquals(Set.of(), access.allowed(token, "team/app"));
            users.remove("root");
            assertFalse(access.api(adminToken));
        }

        @Test
        void bearerTokensGrantExactlyTheirEntries() throws Exception {
            setUp();
            Principal bearer = new Principal(Principal.Kind.BEARER, "alice", null,
                    List.of(new Principal.Grant("repository", "team/app", Set.of("pull")),
                            new Principal.Grant("repository", "all/x", Set.of("*")),
                            new Principal.Grant("repository", "team/**", Set.of("pull", "push"))), false, null);
            assertEquals(Set.of("pull"), access.allowed(bearer, "team/app"));
            assertEquals(AccessControl.ALL, access.allowed(bearer, "all/x"));
            assertEquals(Set.of(), access.allowed(bearer, "team/other"), "bearer entries are names, not globs");
            assertFalse(access.catalog(bearer));
            assertFalse(access.api(bearer), "bearer tokens never open the API");
            Principal catalog = new Principal(Principal.Kind.BEARER, "root", null,
                    List.of(new Principal.Grant("registry", "catalog", Set.of("*"))), false, null);
            assertTrue(access.catalog(catalog));
        }
    }

    @Nested
    class Tokens {
        private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
        private static final List<Principal.Grant> PULL_APP = List.of(new Principal.Grant("repository", "team/app", Set.of("pull")));

        private TokenService at(Path dir, String service, Instant now) throws IOException {
            return TokenService.loadOrCreate(dir, service, Clock.fixed(now, ZoneOffset.UTC));
        }

        private static String part(String token, int i) {
            return token.split("\\.", -1)[i];
        }

        private static String b64(String json) {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
        }

        private static JsonObject claims(String token) {
            return new JsonObject(new String(Base64.getUrlDecoder().decode(part(token, 1)), StandardCharsets.UTF_8));
        }

        private static String refused(TokenService s, String token, String use) {
            return assertThrows(TokenService.InvalidTokenException.class, () -> s.verify(token, use)).getMessage();
        }

        @Test
        void aRememberedTokenStillExpiresAndKeepsItsUse() throws Exception {
            dev.berth.testing.TestClock clock = new dev.berth.testing.TestClock(T0);
            TokenService s = TokenService.loadOrCreate(tmp, "berth", clock);
            String token = s.issueAccess("alice", PULL_APP, Duration.ofMinutes(1));
            assertEquals("alice", s.verify(token, "access").subject());
            assertEquals("alice", s.verify(token, "access").subject(), "verified again from memory");
            assertTrue(refused(s, token, "refresh").startsWith("not a refresh token"));
            clock.advance(Duration.ofSeconds(60 + TokenService.LEEWAY_SECONDS + 1));
            assertEquals("the token has expired", refused(s, token, "access"));
            assertEquals("the token has expired", refused(s, token, "access"));
        }

        @Test
        void issuedTokensVerifyWithTheirClaims() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            String token = s.issueAccess("alice", List.of(new Principal.Grant("repository", "team/app", Set.of("push", "pull")),
                    new Principal.Grant("registry", "catalog", Set.of())), Duration.ofMinutes(5));
            JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(part(token, 0)), StandardCharsets.UTF_8));
            assertEquals("ES256", header.getString("alg"));
            assertEquals(s.keyId(), header.getString("kid"));
            JsonObject c = claims(token);
            assertEquals("berth", c.getString("iss"));
            assertEquals("berth", c.getValue("aud") instanceof String a ? a : c.getJsonArray("aud").getString(0));
            assertEquals("access", c.getString("use"));
            assertEquals(T0.plusSeconds(300).getEpochSecond(), c.getLong("exp"));
            assertEquals(List.of("pull", "push"), c.getJsonArray("access").getJsonObject(0).getJsonArray("actions").getList(),
                    "actions sorted, as Docker's token servers write them");

            TokenService.Claims verified = s.verify(token, "access");
            assertEquals("access", verified.use());
            assertEquals("alice", verified.subject());
            assertEquals(List.of(new Principal.Grant("repository", "team/app", Set.of("pull", "push")),
                    new Principal.Grant("registry", "catalog", Set.of())), verified.access());
            assertEquals(T0.plusSeconds(300), verified.expiresAt());
            assertNotNull(verified.id());

            TokenService.Claims refresh = s.verify(s.issueRefresh("alice", "stamp123", Duration.ofDays(1)), "refresh");
            assertEquals("stamp123", refresh.stamp());
            assertEquals(List.of(), refresh.access());
            TokenService.Claims pull = s.verify(s.issuePull("node-1", PULL_APP, Duration.ofHours(1)), "pull");
            assertEquals("node-1", pull.subject());
            assertEquals(PULL_APP, pull.access());
        }

        @Test
        void theKeyIsKeptPrivateAndReusedAcrossLoads() throws Exception {
            TokenService first = at(tmp, "berth", T0);
            Path key = tmp.resolve("token.key");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            assertTrue(Files.readString(key).contains("PRIVATE KEY-----"), "a PEM private key");
            String token = first.issueAccess("alice", PULL_APP, Duration.ofMinutes(5));
            byte[] before = Files.readAllBytes(key);
            TokenService second = at(tmp, "berth", T0);
            assertEquals(first.keyId(), second.keyId());
            assertEquals("alice", second.verify(token, "access").subject());
            assertEquals(new String(before), Files.readString(key), "not rewritten");

            Files.writeString(key, "not a key\n");
            assertThrows(IOException.class, () -> at(tmp, "berth", T0));
        }

        @Test
        void tamperedPayloadOrSignatureIsRefused() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            String token = s.issueAccess("alice", PULL_APP, Duration.ofMinutes(5));
            // Same signature, claims widened to push.
            String wider = claims(token).put("access", List.of(Map.of("type", "repository", "name", "team/app",
                    "actions", List.of("pull", "push")))).encode();
            String forged = part(token, 0) + "." + b64(wider) + "." + part(token, 2);
            assertEquals("the token's signature does not verify", refused(s, forged, "access"));
            // One signature byte changed (in the middle: the last character carries padding bits).
            String sig = part(token, 2);
            char c = sig.charAt(20);
            String flipped = sig.substring(0, 20) + (c == 'A' ? 'B' : 'A') + sig.substring(21);
            assertEquals("the token's signature does not verify",
                    refused(s, part(token, 0) + "." + part(token, 1) + "." + flipped, "access"));
            assertEquals("not a signed JWT", refused(s, part(token, 0) + "." + part(token, 1), "access"));
            assertEquals("not a signed JWT", refused(s, "garbage", "access"));
        }

        @Test
        void aTokenFromAnotherKeyIsRefused() throws Exception {
            TokenService mine = at(tmp.resolve("a"), "berth", T0);
            TokenService theirs = at(tmp.resolve("b"), "berth", T0);
            assertNotEquals(mine.keyId(), theirs.keyId());
            assertEquals("the token's signature does not verify",
                    refused(mine, theirs.issueAccess("alice", PULL_APP, Duration.ofMinutes(5)), "access"));
        }

        @Test
        void unsignedAndHmacTokensAreRefused() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            String claims = claims(s.issueAccess("alice", PULL_APP, Duration.ofMinutes(5))).encode();
            String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims) + ".";
            refused(s, none, "access");

            // HS256 keyed with the public key's bytes (the classic algorithm-confusion forgery).
            SignedJWT hs = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), JWTClaimsSet.parse(claims));
            hs.sign(new MACSigner(Files.readAllBytes(tmp.resolve("token.key"))));
            assertEquals("the token's algorithm is HS256; only ES256 is accepted", refused(s, hs.serialize(), "access"));
        }

        @Test
        void expiryAndNotBeforeHoldWithTenSecondsOfLeeway() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            // Tokens signed with the service's key but issued at other times (see HandMadeTokens for why by hand).
            assertEquals("alice", s.verify(HandMadeTokens.access(tmp, "berth", "alice", T0.minusSeconds(65),
                    Duration.ofSeconds(60), PULL_APP), "access").subject(), "expired 5 s ago: within the leeway");
            assertEquals("the token has expired", refused(s, HandMadeTokens.access(tmp, "berth", "alice",
                    T0.minusSeconds(71), Duration.ofSeconds(60), PULL_APP), "access"));
            assertEquals("the token has expired", refused(s, HandMadeTokens.access(tmp, "berth", "alice",
                    T0.minus(Duration.ofDays(1)), Duration.ofMinutes(5), PULL_APP), "access"));
            assertEquals("alice", s.verify(HandMadeTokens.access(tmp, "berth", "alice", T0.plusSeconds(5),
                    Duration.ofSeconds(60), PULL_APP), "access").subject(), "valid in 5 s: within the leeway");
            assertEquals("the token is not valid yet", refused(s, HandMadeTokens.access(tmp, "berth", "alice",
                    T0.plusSeconds(60), Duration.ofSeconds(60), PULL_APP), "access"));
        }

        @Test
        void anotherAudienceOrIssuerIsRefused() throws Exception {
            TokenService berth = at(tmp, "berth", T0);
            assertEquals("the token is not for service berth", refused(berth, HandMadeTokens.access(tmp, "other-registry",
                    "alice", T0, Duration.ofMinutes(5), PULL_APP), "access"));
            TokenService other = at(tmp.resolve("other"), "other-registry", T0);
            assertEquals("other-registry", other.service());
            assertEquals("the token is not for service other-registry",
                    refused(other, HandMadeTokens.access(tmp.resolve("other"), "berth", "alice", T0,
                            Duration.ofMinutes(5), PULL_APP), "access"));
        }

        @Test
        void oneUseNeverStandsInForAnother() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            String refresh = s.issueRefresh("alice", "stamp", Duration.ofDays(1));
            String access = s.issueAccess("alice", PULL_APP, Duration.ofMinutes(5));
            String pull = s.issuePull("node-1", PULL_APP, Duration.ofHours(1));
            assertEquals("not an access token", refused(s, refresh, "access"));
            assertEquals("not an access token", refused(s, pull, "access"));
            assertEquals("not a refresh token", refused(s, access, "refresh"));
            assertEquals("not a pull token", refused(s, access, "pull"));
            assertEquals("not a pull token", refused(s, refresh, "pull"));
        }

        @Test
        void aSignedTokenWithoutExpiryOrFromAnotherIssuerIsRefused() throws Exception {
            TokenService s = at(tmp, "berth", T0);
            JWTClaimsSet good = HandMadeTokens.claims("berth", "alice", T0, Duration.ofMinutes(5), PULL_APP).build();
            assertEquals("alice", s.verify(HandMadeTokens.sign(tmp, good), "access").subject(),
                    "the hand-made token is otherwise valid");
            JWTClaimsSet otherIssuer = new JWTClaimsSet.Builder(good).issuer("someone").build();
            assertEquals("the token was not issued by berth", refused(s, HandMadeTokens.sign(tmp, otherIssuer), "access"));
            JWTClaimsSet noExpiry = new JWTClaimsSet.Builder(good).expirationTime(null).build();
            assertEquals("the token has expired", refused(s, HandMadeTokens.sign(tmp, noExpiry), "access"));
            JWTClaimsSet noUse = new JWTClaimsSet.Builder(good).claim("use", null).build();
            assertEquals("not an access token", refused(s, HandMadeTokens.sign(tmp, noUse), "access"));
        }
    }
    /**
     * Tokens signed by hand with the key a {@link TokenService} keeps in {@code <dir>/token.key},
     * with the claims it writes, for times and audiences no running service would issue. It reads
     * only the private scalar, so that the checks of {@code verify} are tested apart from how the
     * key file is kept (which {@link Tokens#theKeyIsKeptPrivateAndReusedAcrossLoads} covers).
     */
    static final class HandMadeTokens {
        private HandMadeTokens() {
        }

        /** The P-256 private key in the file, from its scalar alone (the file may name neither curve nor public key). */
        static ECPrivateKey privateKey(Path dir) throws Exception {
            PrivateKeyInfo info;
            try (var in = Files.newBufferedReader(dir.resolve("token.key")); PEMParser parser = new PEMParser(in)) {
                Object o = parser.readObject();
                info = o instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo() : (PrivateKeyInfo) o;
            }
            BigInteger d = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
            AlgorithmParameters p256 = AlgorithmParameters.getInstance("EC");
            p256.init(new ECGenParameterSpec("secp256r1"));
            return (ECPrivateKey) KeyFactory.getInstance("EC")
                    .generatePrivate(new ECPrivateKeySpec(d, p256.getParameterSpec(ECParameterSpec.class)));
        }

        static JWTClaimsSet.Builder claims(String service, String subject, Instant issued, Duration ttl,
                                           List<Principal.Grant> access) {
            List<Map<String, Object>> list = access.stream().map(g -> Map.<String, Object>of("type", g.type(),
                    "name", g.name(), "actions", g.actions().stream().sorted().toList())).toList();
            return new JWTClaimsSet.Builder().issuer(TokenService.ISSUER).subject(subject).audience(service)
                    .issueTime(Date.from(issued)).notBeforeTime(Date.from(issued))
                    .expirationTime(Date.from(issued.plus(ttl))).jwtID(java.util.UUID.randomUUID().toString())
                    .claim("use", "access").claim("access", list);
        }

        static String sign(Path dir, JWTClaimsSet claims) throws Exception {
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.ES256), claims);
            jwt.sign(new ECDSASigner(privateKey(dir)));
            return jwt.serialize();
        }

        static String access(Path dir, String service, String subject, Instant issued, Duration ttl,
                             List<Principal.Grant> access) throws Exception {
            return sign(dir, claims(service, subject, issued, ttl, access).build());
        }
    }
}
