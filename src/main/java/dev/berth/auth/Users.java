package dev.berth.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * Berth's users: an htpasswd file of {@code name:bcrypt-hash} lines (the format Apache's
 * {@code htpasswd -B} and CNCF distribution use; {@code $2a$}, {@code $2b$} and {@code $2y$}
 * hashes) and an Apache-style group file of {@code group: user user...} lines. The server reads
 * both again when they change on disk; {@code berth user} edits them (atomically, mode 0600).
 *
 * <p>bcrypt is slow by design, so a password that verified is remembered (as a salted digest, for
 * a few minutes, and only while the user's hash is unchanged): basic authentication on every
 * request then costs a bcrypt once per client, not once per request.
 */
public final class Users {
    /** User and group names: what a repository path segment allows, plus upper case and '@'. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
    /** bcrypt's cost for new hashes (2^10 rounds, about 60 ms here). */
    static final int COST = 10;

    private final Path htpasswd;
    private final Path groupFile;
    private volatile Snapshot snapshot = new Snapshot(Map.of(), Map.of(), Map.of(), null, null);
    private final Cache<String, String> verified = Caffeine.newBuilder()
            .maximumSize(10_000).expireAfterWrite(Duration.ofMinutes(5)).build();
    private final byte[] cacheSalt = new byte[16];

    /** What the files said when last read, with their modification times. */
    private record Snapshot(Map<String, String> hashes, Map<String, Set<String>> groups,
                            Map<String, Set<String>> memberships, FileTime usersTime, FileTime groupsTime) {
    }

    public Users(Path htpasswd, Path groupFile) {
        this.htpasswd = htpasswd;
        this.groupFile = groupFile;
        new SecureRandom().nextBytes(cacheSalt);
    }

    /** Reads both files now; a missing file is an empty one. Throws on a malformed file. */
    public static Users load(Path htpasswd, Path groupFile) throws IOException {
        Users users = new Users(htpasswd, groupFile);
        users.reload();
        return users;
    }

    /**
     * Reads the files again if either changed since the last read (blocking: file I/O). A malformed
     * file keeps what was read before, and the exception says why.
     */
    public synchronized boolean reloadIfChanged() throws IOException {
        Snapshot s = snapshot;
        FileTime u = modified(htpasswd);
        FileTime g = modified(groupFile);
        if (Objects.equals(u, s.usersTime()) && Objects.equals(g, s.groupsTime())) {
            return false;
        }
        reload();
        return true;
    }

    private synchronized void reload() throws IOException {
        FileTime u = modified(htpasswd);
        FileTime g = modified(groupFile);
        Map<String, String> hashes = readHtpasswd(htpasswd);
        Map<String, Set<String>> groups = readGroups(groupFile);
        // Each user's groups, worked out once per read (asked for on every authenticated request).
        Map<String, Set<String>> memberships = new java.util.HashMap<>();
        groups.forEach((group, members) -> members.forEach(m ->
                memberships.computeIfAbsent(m, k -> new TreeSet<>()).add(group)));
        memberships.replaceAll((m, of) -> Collections.unmodifiableSet(of));
        snapshot = new Snapshot(Collections.unmodifiableMap(hashes), Collections.unmodifiableMap(groups),
                Collections.unmodifiableMap(memberships), u, g);
    }

    private static FileTime modified(Path file) throws IOException {
        try {
            return Files.getLastModifiedTime(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Whether {@code name} is a user. */
    public boolean exists(String name) {
        return name != null && snapshot.hashes().containsKey(name);
    }

    /** The user names, sorted. */
    public List<String> names() {
        return List.copyOf(new TreeSet<>(snapshot.hashes().keySet()));
    }

    /** The groups {@code name} belongs to (empty for unknown users). */
    public Set<String> groupsOf(String name) {
        return name == null ? Set.of() : snapshot.memberships().getOrDefault(name, Set.of());
    }

    /** Every group with its members. */
    public Map<String, Set<String>> groups() {
        return snapshot.groups();
    }

    /**
     * A short fingerprint of the user's current password hash, or null for no such user: tokens
     * that carry it stop working when the password changes or the user is removed.
     */
    public String passwordStamp(String name) {
        String hash = name == null ? null : snapshot.hashes().get(name);
        return hash == null ? null : sha256Hex(hash.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /**
     * Whether {@code password} is {@code name}'s. Blocking (bcrypt): call it from a worker. Every
     * unknown user costs a bcrypt too, so timing does not tell which names exist.
     */
    public boolean verify(String name, String password) {
        if (name == null || password == null || password.length() > 1024) {
            return false;
        }
        String hash = snapshot.hashes().get(name);
        String key = cacheKey(name, password);
        if (hash != null && hash.equals(verified.getIfPresent(key))) {
            return true;
        }
        boolean ok;
        try {
            ok = OpenBSDBCrypt.checkPassword(hash != null ? hash : dummyHash(), password.toCharArray()) && hash != null;
        } catch (IllegalArgumentException e) {
            ok = false;
        }
        if (ok) {
            verified.put(key, hash);
        }
        return ok;
    }

    /**
     * Whether {@code password} verified for {@code name} recently and the user's hash has not changed
     * since: a SHA-256, no bcrypt, so it may run on an event loop. False means "ask {@link #verify}".
     */
    public boolean verifiedRecently(String name, String password) {
        if (name == null || password == null || password.length() > 1024) {
            return false;
        }
        String hash = snapshot.hashes().get(name);
        return hash != null && hash.equals(verified.getIfPresent(cacheKey(name, password)));
    }

    private String cacheKey(String name, String password) {
        return name + '\0' + sha256Hex(concat(cacheSalt, password.getBytes(StandardCharsets.UTF_8)));
    }

    private final Map<Integer, String> dummies = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A bcrypt hash checked against for unknown users, at the cost of the file's first hash: an
     * unknown name then takes as long as a known one (htpasswd -B writes cost 5, berth user 10).
     */
    private String dummyHash() {
        int cost = snapshot.hashes().values().stream().findFirst()
                .map(h -> Integer.parseInt(h.substring(4, 6))).orElse(COST);
        return dummies.computeIfAbsent(cost, c -> OpenBSDBCrypt.generate("2y", "berth-no-such-user".toCharArray(),
                new byte[16], c));
    }

    /** A bcrypt hash ({@code $2y$}, what htpasswd -B writes) of {@code password} with a random salt. */
    public static String hash(String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, COST);
    }

    // ------------------------------------------------------------------------------------------
    // Editing (berth user): read, change, write atomically.

    /** Adds a user or replaces their password hash. */
    public void setPassword(String name, String password) throws IOException {
        checkName("user", name);
        Map<String, String> hashes = new TreeMap<>(readHtpasswd(htpasswd));
        hashes.put(name, hash(password));
        writeHtpasswd(hashes);
        reload();
    }

    /** Removes a user from the users file and every group; false when there was no such user. */
    public boolean remove(String name) throws IOException {
        Map<String, String> hashes = new TreeMap<>(readHtpasswd(htpasswd));
        if (hashes.remove(name) == null) {
            return false;
        }
        writeHtpasswd(hashes);
        Map<String, Set<String>> groups = readGroups(groupFile);
        boolean changed = false;
        for (Set<String> members : groups.values()) {
            changed |= members.remove(name);
        }
        groups.values().removeIf(Set::isEmpty);
        if (changed) {
            writeGroups(groups);
        }
        reload();
        return true;
    }

    /** Makes {@code name} a member of exactly {@code groups}. */
    public void setGroups(String name, Set<String> groups) throws IOException {
        for (String g : groups) {
            checkName("group", g);
        }
        Map<String, Set<String>> all = readGroups(groupFile);
        for (Set<String> members : all.values()) {
            members.remove(name);
        }
        for (String g : groups) {
            all.computeIfAbsent(g, k -> new LinkedHashSet<>()).add(name);
        }
        all.values().removeIf(Set::isEmpty);
        writeGroups(all);
        reload();
    }

    public static void checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a valid " + what + " name (letters, digits, "
                    + "'.', '_', '@' or '-', at most 64, starting with a letter or digit)");
        }
    }

    private void writeHtpasswd(Map<String, String> hashes) throws IOException {
        StringBuilder text = new StringBuilder();
        hashes.forEach((n, h) -> text.append(n).append(':').append(h).append('\n'));
        SecretFiles.write(htpasswd, text.toString(), true);
    }

    private void writeGroups(Map<String, Set<String>> groups) throws IOException {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(groups).forEach((g, members) -> text.append(g).append(": ")
                .append(String.join(" ", new TreeSet<>(members))).append('\n'));
        SecretFiles.write(groupFile, text.toString(), true);
    }

    // ------------------------------------------------------------------------------------------
    // Parsing

    static Map<String, String> readHtpasswd(Path file) throws IOException {
        Map<String, String> hashes = new LinkedHashMap<>();
        for (Line line : lines(file)) {
            int colon = line.text().indexOf(':');
            if (colon <= 0) {
                throw new IOException(file + " line " + line.number() + ": expected name:bcrypt-hash");
            }
            String name = line.text().substring(0, colon);
            String hash = line.text().substring(colon + 1).trim();
            if (!hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
                throw new IOException(file + " line " + line.number() + ": user " + name
                        + " has no bcrypt hash (only bcrypt is accepted: htpasswd -B, or berth user add)");
            }
            hashes.put(name, hash);
        }
        return hashes;
    }

    static Map<String, Set<String>> readGroups(Path file) throws IOException {
        Map<String, Set<String>> groups = new TreeMap<>();
        for (Line line : lines(file)) {
            int colon = line.text().indexOf(':');
            if (colon <= 0) {
                throw new IOException(file + " line " + line.number() + ": expected group: user user...");
            }
            String group = line.text().substring(0, colon).trim();
            Set<String> members = groups.computeIfAbsent(group, k -> new LinkedHashSet<>());
            for (String member : line.text().substring(colon + 1).trim().split("[\\s,]+")) {
                if (!member.isEmpty()) {
                    members.add(member);
                }
            }
        }
        return groups;
    }

    private record Line(int number, String text) {
    }

    private static List<Line> lines(Path file) throws IOException {
        List<String> raw;
        try {
            raw = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String t = raw.get(i).strip();
            if (!t.isEmpty() && !t.startsWith("#")) {
                lines.add(new Line(i + 1, t));
            }
        }
        return lines;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
