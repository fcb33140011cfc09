package dev.berth.auth;

import dev.berth.db.Database;
import dev.berth.db.Migration;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Revocable tokens for CI and scripts ({@code berth token create}): a token belongs to the user who
 * made it and names repository globs and actions (and, made by an admin, the control-plane API).
 * It is presented as a password ({@code docker login -u ci -p bpt....}, or basic authentication)
 * and grants only the intersection of its own scope and what its owner may do at that moment.
 * The secret is shown once and kept as a SHA-256 hash in the state database; revoking deletes it.
 */
public final class CiTokens {
    public static final String PREFIX = "bpt.";

    public static final List<Migration> MIGRATIONS = List.of(new Migration(301, "CI tokens", List.of(
            """
            CREATE TABLE auth_token (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              owner TEXT NOT NULL,
              repositories TEXT NOT NULL,
              actions TEXT NOT NULL,
              api INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              expires_at INTEGER,
              secret_sha256 TEXT NOT NULL
            )""")));

    /** One token as stored (never its secret). */
    public record CiToken(String id, String name, String owner, List<String> repositories, Set<String> actions,
                          boolean api, Instant createdAt, Instant expiresAt, String secretSha256) {
        public CiToken {
            repositories = List.copyOf(repositories);
            actions = Set.copyOf(new TreeSet<>(actions));
        }
    }

    /** A token just made, with the secret text to hand over once. */
    public record Created(CiToken token, String secret) {
    }

    private final Database database;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, CiToken> tokens = new ConcurrentHashMap<>();

    private CiTokens(Database database, Clock clock) {
        this.database = database;
        this.clock = clock;
    }

    /** The tokens in {@code database}, loaded now (blocking; at start-up). */
    public static CiTokens load(Database database, Clock clock) throws Exception {
        CiTokens t = new CiTokens(database, clock);
        List<CiToken> all = database.transactionBlocking(CiTokens::readAll);
        all.forEach(token -> t.tokens.put(token.id(), token));
        return t;
    }

    private static List<CiToken> readAll(Connection c) throws Exception {
        List<CiToken> list = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement("SELECT id, name, owner, repositories, actions, api, created_at, "
                + "expires_at, secret_sha256 FROM auth_token"); ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                long expires = rs.getLong(8);
                boolean noExpiry = rs.wasNull();
                list.add(new CiToken(rs.getString(1), rs.getString(2), rs.getString(3),
                        split(rs.getString(4)), Set.copyOf(split(rs.getString(5))), rs.getInt(6) != 0,
                        Instant.ofEpochMilli(rs.getLong(7)), noExpiry ? null : Instant.ofEpochMilli(expires),
                        rs.getString(9)));
            }
        }
        return list;
    }

    private static List<String> split(String text) {
        return text.isEmpty() ? List.of() : List.of(text.split(" "));
    }

    /** Makes a token; the arguments are already validated. */
    public Future<Created> create(String owner, String name, List<String> repositories, Set<String> actions, boolean api,
                                  Instant expiresAt) {
        byte[] idBytes = new byte[6];
        byte[] secretBytes = new byte[24];
        random.nextBytes(idBytes);
        random.nextBytes(secretBytes);
        String id = HexFormat.of().formatHex(idBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        CiToken token = new CiToken(id, name, owner, repositories, actions, api, clock.instant(), expiresAt, sha256(secret));
        return database.transaction(c -> {
            try (PreparedStatement st = c.prepareStatement("INSERT INTO auth_token (id, name, owner, repositories, "
                    + "actions, api, created_at, expires_at, secret_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                st.setString(1, token.id());
                st.setString(2, token.name());
                st.setString(3, token.owner());
                st.setString(4, String.join(" ", token.repositories()));
                st.setString(5, String.join(" ", token.actions()));
                st.setInt(6, api ? 1 : 0);
                st.setLong(7, token.createdAt().toEpochMilli());
                if (expiresAt == null) {
                    st.setNull(8, java.sql.Types.INTEGER);
                } else {
                    st.setLong(8, expiresAt.toEpochMilli());
                }
                st.setString(9, token.secretSha256());
                st.executeUpdate();
            }
            return null;
        }).map(v -> {
            tokens.put(id, token);
            return new Created(token, PREFIX + id + "." + secret);
        });
    }

    /** Revokes (deletes) a token; false when there was none with that id. */
    public Future<Boolean> revoke(String id) {
        return database.transaction(c -> {
            try (PreparedStatement st = c.prepareStatement("DELETE FROM auth_token WHERE id = ?")) {
                st.setString(1, id);
                return st.executeUpdate() > 0;
            }
        }).map(deleted -> {
            tokens.remove(id);
            return deleted;
        });
    }

    public CiToken get(String id) {
        return id == null ? null : tokens.get(id);
    }

    /** Every token, oldest first. */
    public List<CiToken> list() {
        List<CiToken> all = new ArrayList<>(tokens.values());
        all.sort(Comparator.comparing(CiToken::createdAt).thenComparing(CiToken::id));
        return all;
    }

    /** Whether {@code text} looks like a CI token (and so must not be taken for a password). */
    public static boolean looksLikeToken(String text) {
        return text != null && text.startsWith(PREFIX);
    }

    /** The principal a CI token stands for, or null when it is unknown, wrong or expired. Never blocks. */
    public Principal authenticate(String text) {
        if (!looksLikeToken(text)) {
            return null;
        }
        String[] parts = text.split("\\.", -1);
        CiToken token = parts.length == 3 ? tokens.get(parts[1]) : null;
        if (token == null || !MessageDigest.isEqual(token.secretSha256().getBytes(StandardCharsets.US_ASCII),
                sha256(parts[2]).getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        if (token.expiresAt() != null && !clock.instant().isBefore(token.expiresAt())) {
            return null;
        }
        List<Principal.Grant> grants = token.repositories().stream()
                .map(glob -> new Principal.Grant("repository", glob, token.actions())).toList();
        return new Principal(Principal.Kind.CI_TOKEN, token.owner(), Set.of(), grants, token.api(), token.id());
    }

    private static String sha256(String text) {
        return Users.sha256Hex(text.getBytes(StandardCharsets.UTF_8));
    }
}
