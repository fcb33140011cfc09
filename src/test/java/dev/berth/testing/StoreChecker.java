package dev.berth.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checks a filesystem store for consistency, independently of Berth's code: every blob hashes to
 * its address, every link names what its path says and points at a present blob, every tag points
 * at a manifest revision of its repository, and no unexpected files exist.
 */
public final class StoreChecker {
    private static final Pattern BLOB = Pattern.compile("registry/blobs/(sha256|sha512)/([0-9a-f]{2})/([0-9a-f]+)/data");
    private static final Pattern LINK = Pattern.compile(
            "registry/repositories/(.+)/(_layers|_manifests/revisions)/(sha256|sha512)/([0-9a-f]+)/link");
    private static final Pattern TAG_CURRENT = Pattern.compile("registry/repositories/(.+)/_manifests/tags/([^/]+)/current/link");
    private static final Pattern TAG_INDEX = Pattern.compile(
            "registry/repositories/(.+)/_manifests/tags/([^/]+)/index/(sha256|sha512)/([0-9a-f]+)/link");
    private static final Pattern REFERRER = Pattern.compile(
            "registry/repositories/(.+)/_referrers/(sha256|sha512)/([0-9a-f]+)/(sha256|sha512)/([0-9a-f]+)/link");
    private static final Pattern UPLOAD = Pattern.compile(
            "registry/repositories/(.+)/_uploads/[0-9a-f-]{36}/(data|startedat)");

    private StoreChecker() {
    }

    /** Everything wrong with the store under {@code root}; empty when it is consistent. */
    public static List<String> problems(Path root) throws IOException {
        List<String> problems = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            String key = root.relativize(file).toString();
            if (file.getFileName().toString().startsWith("#tmp-")) {
                continue; // a write interrupted before its atomic rename: invisible to Berth
            }
            if (!key.startsWith("registry/")) {
                continue; // the state database and its journal are SQLite's business
            }
            Matcher m;
            if ((m = BLOB.matcher(key)).matches()) {
                if (!m.group(3).startsWith(m.group(2))) {
                    problems.add(key + ": blob in the wrong directory");
                }
                String actual = hash(m.group(1), file);
                if (!actual.equals(m.group(3))) {
                    problems.add(key + ": content hashes to " + actual);
                }
            } else if ((m = LINK.matcher(key)).matches()) {
                checkLink(root, key, file, m.group(3) + ":" + m.group(4), problems);
            } else if ((m = TAG_INDEX.matcher(key)).matches()) {
                checkLink(root, key, file, m.group(3) + ":" + m.group(4), problems);
            } else if ((m = REFERRER.matcher(key)).matches()) {
                checkLink(root, key, file, m.group(4) + ":" + m.group(5), problems);
            } else if ((m = TAG_CURRENT.matcher(key)).matches()) {
                String digest = Files.readString(file, StandardCharsets.UTF_8).trim();
                String[] parts = digest.split(":");
                Path revision = root.resolve("registry/repositories/" + m.group(1) + "/_manifests/revisions/"
                        + parts[0] + "/" + (parts.length > 1 ? parts[1] : "") + "/link");
                if (!Files.exists(revision)) {
                    problems.add(key + ": tag points at " + digest + ", not a manifest of the repository");
                }
            } else if (!UPLOAD.matcher(key).matches()) {
                problems.add(key + ": unexpected file");
            }
        }
        return problems;
    }

    private static void checkLink(Path root, String key, Path file, String expected, List<String> problems)
            throws IOException {
        String content = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (!content.equals(expected)) {
            problems.add(key + ": link says " + content);
            return;
        }
        String[] parts = expected.split(":");
        Path blob = root.resolve("registry/blobs/" + parts[0] + "/" + parts[1].substring(0, 2) + "/" + parts[1] + "/data");
        if (!key.contains("/_referrers/") && !Files.exists(blob)) {
            problems.add(key + ": links a blob that is not stored");
        }
    }

    private static String hash(String algorithm, Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
