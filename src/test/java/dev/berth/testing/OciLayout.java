package dev.berth.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Writes OCI image layouts ({@code oci-layout}, {@code index.json}, {@code blobs/sha256/...}) for
 * tests that feed images to real clients ({@code skopeo copy oci:DIR:TAG ...}), and reads back the
 * layouts those clients write.
 *
 * <p>Every layer is a real gzip'd USTAR tar holding one regular file of random bytes; the config
 * lists the layers' diff_ids (the sha256 of each uncompressed tar). The digests of everything
 * written are returned so tests can compare them with what comes back.
 */
public final class OciLayout {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String REF_NAME = "org.opencontainers.image.ref.name";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 512;

    /** One layer blob: its digest and size as stored (gzip'd), and the digest of the plain tar. */
    public record Layer(String digest, long size, String diffId) {
    }

    /** An image manifest written to the layout. */
    public record Image(String digest, long size, String architecture, String os, String configDigest,
                        List<Layer> layers) {
        public List<String> layerDigests() {
            return layers.stream().map(Layer::digest).toList();
        }

        /** The config and every layer: all blobs the manifest references. */
        public List<String> blobDigests() {
            List<String> all = new ArrayList<>();
            all.add(configDigest);
            all.addAll(layerDigests());
            return all;
        }
    }

    /** An image index written to the layout, with the images it lists (in order). */
    public record Index(String digest, long size, List<Image> images) {
    }

    private final Path dir;
    private final Random random;
    /** The entries of index.json, in the order they were tagged. */
    private final List<Map<String, Object>> refs = new ArrayList<>();

    private OciLayout(Path dir, Random random) {
        this.dir = dir;
        this.random = random;
    }

    /** Creates (or reuses) a layout at {@code dir}: writes {@code oci-layout} and an empty index.json. */
    public static OciLayout create(Path dir, Random random) throws IOException {
        Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        OciLayout layout = new OciLayout(dir, random);
        layout.writeIndexJson();
        return layout;
    }

    public static OciLayout create(Path dir) throws IOException {
        return create(dir, new Random());
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes a linux image for {@code architecture} with {@code layerCount} layers, each a gzip'd tar
     * holding {@code fileBytes} random bytes (random data does not compress, so each blob is a bit
     * larger than that). The image is not tagged; see {@link #tag(String, String, String, long)}.
     */
    public Image image(String architecture, int layerCount, int fileBytes) throws IOException {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < layerCount; i++) {
            byte[] content = new byte[fileBytes];
            random.nextBytes(content);
            byte[] tar = tar("layer" + i + "/data-" + architecture + "-" + i + ".bin", content);
            byte[] gz = gzip(tar);
            layers.add(new Layer(writeBlob(gz), gz.length, RegistryClient.sha256(tar)));
        }

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("created", "2024-01-01T00:00:00Z");
        config.put("architecture", architecture);
        config.put("os", "linux");
        Map<String, Object> runConfig = new LinkedHashMap<>();
        runConfig.put("Env", List.of("PATH=/bin"));
        runConfig.put("Cmd", List.of("/bin/sh"));
        config.put("config", runConfig);
        Map<String, Object> rootfs = new LinkedHashMap<>();
        rootfs.put("type", "layers");
        rootfs.put("diff_ids", layers.stream().map(Layer::diffId).toList());
        config.put("rootfs", rootfs);
        List<Map<String, Object>> history = new ArrayList<>();
        for (int i = 0; i < layerCount; i++) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("created", "2024-01-01T00:00:00Z");
            h.put("created_by", "OciLayout layer " + i);
            history.add(h);
        }
        config.put("history", history);
        byte[] configBytes = JSON.writeValueAsBytes(config);
        String configDigest = writeBlob(configBytes);

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", OCI_MANIFEST);
        manifest.put("config", descriptor(OCI_CONFIG, configDigest, configBytes.length));
        List<Map<String, Object>> layerDescriptors = new ArrayList<>();
        for (Layer l : layers) {
            layerDescriptors.add(descriptor(OCI_LAYER_GZIP, l.digest(), l.size()));
        }
        manifest.put("layers", layerDescriptors);
        byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
        String digest = writeBlob(manifestBytes);
        return new Image(digest, manifestBytes.length, architecture, "linux", configDigest, List.copyOf(layers));
    }

    /** Writes an OCI image index listing {@code images} with their platforms. Not tagged. */
    public Index index(List<Image> images) throws IOException {
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", OCI_INDEX);
        List<Map<String, Object>> manifests = new ArrayList<>();
        for (Image image : images) {
            Map<String, Object> d = descriptor(OCI_MANIFEST, image.digest(), image.size());
            Map<String, Object> platform = new LinkedHashMap<>();
            platform.put("architecture", image.architecture());
            platform.put("os", image.os());
            d.put("platform", platform);
            manifests.add(d);
        }
        index.put("manifests", manifests);
        byte[] bytes = JSON.writeValueAsBytes(index);
        return new Index(writeBlob(bytes), bytes.length, List.copyOf(images));
    }

    /** Tags an image so {@code oci:DIR:TAG} addresses it. */
    public OciLayout tag(Image image, String tag) throws IOException {
        return tag(tag, OCI_MANIFEST, image.digest(), image.size());
    }

    /** Tags an index so {@code oci:DIR:TAG} addresses it. */
    public OciLayout tag(Index index, String tag) throws IOException {
        return tag(tag, OCI_INDEX, index.digest(), index.size());
    }

    /** Adds an entry with a ref.name annotation to index.json (replacing one with the same name). */
    public OciLayout tag(String tag, String mediaType, String digest, long size) throws IOException {
        refs.removeIf(r -> tag.equals(((Map<?, ?>) r.get("annotations")).get(REF_NAME)));
        Map<String, Object> d = descriptor(mediaType, digest, size);
        Map<String, Object> annotations = new LinkedHashMap<>();
        annotations.put(REF_NAME, tag);
        d.put("annotations", annotations);
        refs.add(d);
        writeIndexJson();
        return this;
    }

    private void writeIndexJson() throws IOException {
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", OCI_INDEX);
        index.put("manifests", refs);
        Files.write(dir.resolve("index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
    }

    private String writeBlob(byte[] content) throws IOException {
        String digest = RegistryClient.sha256(content);
        Files.write(blobPath(dir, digest), content);
        return digest;
    }

    private static Map<String, Object> descriptor(String mediaType, String digest, long size) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", mediaType);
        d.put("digest", digest);
        d.put("size", size);
        return d;
    }

    // ---- reading layouts (ours or ones skopeo wrote) ----

    /** Where a blob lives in the layout at {@code dir}. */
    public static Path blobPath(Path dir, String digest) {
        int colon = digest.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not a digest: " + digest);
        }
        return dir.resolve("blobs").resolve(digest.substring(0, colon)).resolve(digest.substring(colon + 1));
    }

    /** The content of a blob, read whole. */
    public static byte[] readBlob(Path dir, String digest) throws IOException {
        return Files.readAllBytes(blobPath(dir, digest));
    }

    /** True when the blob is present and its content really hashes to {@code digest}. */
    public static boolean hasVerifiedBlob(Path dir, String digest) throws IOException {
        Path p = blobPath(dir, digest);
        return Files.isRegularFile(p) && digest.equals(RegistryClient.sha256(Files.readAllBytes(p)));
    }

    /** The index.json descriptor annotated with ref.name {@code tag}, if any. */
    public static Optional<JsonNode> ref(Path dir, String tag) throws IOException {
        JsonNode index = JSON.readTree(dir.resolve("index.json").toFile());
        for (JsonNode d : index.path("manifests")) {
            if (tag.equals(d.path("annotations").path(REF_NAME).asText(null))) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** The digest index.json gives for {@code tag}; fails when there is none. */
    public static String refDigest(Path dir, String tag) throws IOException {
        return ref(dir, tag).map(d -> d.path("digest").asText())
                .orElseThrow(() -> new AssertionError("no ref " + tag + " in " + dir.resolve("index.json") + ": "
                        + readString(dir.resolve("index.json"))));
    }

    /** Parses a JSON blob of the layout (manifest, index, config). */
    public static JsonNode readJsonBlob(Path dir, String digest) throws IOException {
        return JSON.readTree(readBlob(dir, digest));
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- tar and gzip ----

    /**
     * A minimal USTAR archive holding one regular file: a 512-byte header, the content padded to a
     * multiple of 512 and two zero blocks.
     */
    static byte[] tar(String name, byte[] content) {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length > 100) {
            throw new IllegalArgumentException("name longer than 100 bytes: " + name);
        }
        byte[] header = new byte[BLOCK];
        System.arraycopy(nameBytes, 0, header, 0, nameBytes.length); // name[100]
        octal(header, 100, 8, 0644);                                  // mode
        octal(header, 108, 8, 0);                                     // uid
        octal(header, 116, 8, 0);                                     // gid
        octal(header, 124, 12, content.length);                       // size
        octal(header, 136, 12, 1704067200L);                          // mtime (2024-01-01)
        header[156] = '0';                                            // typeflag: regular file
        ascii(header, 257, "ustar\0");                                // magic
        ascii(header, 263, "00");                                     // version
        ascii(header, 265, "root");                                   // uname
        ascii(header, 297, "root");                                   // gname
        // checksum: the sum of all header bytes with the checksum field taken as 8 spaces,
        // written as six octal digits, NUL, space
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        ascii(header, 148, String.format("%06o", sum));
        header[154] = 0;
        header[155] = ' ';

        int padded = (content.length + BLOCK - 1) / BLOCK * BLOCK;
        ByteArrayOutputStream out = new ByteArrayOutputStream(BLOCK + padded + 2 * BLOCK);
        out.writeBytes(header);
        out.writeBytes(content);
        out.writeBytes(new byte[padded - content.length]);
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    /** {@code value} as zero-padded octal filling {@code width - 1} bytes, then NUL. */
    private static void octal(byte[] header, int offset, int width, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > width - 1) {
            throw new IllegalArgumentException(value + " does not fit in " + width + " bytes");
        }
        ascii(header, offset, "0".repeat(width - 1 - s.length()) + s);
        header[offset + width - 1] = 0;
    }

    private static void ascii(byte[] header, int offset, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, header, offset, b.length);
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(data.length + 1024);
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
