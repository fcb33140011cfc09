package dev.berth.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.digest.Digest;
import dev.berth.digest.InvalidDigestException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and checks the four manifest kinds: Docker schema2 manifest and manifest list, OCI image
 * manifest and OCI index (including artifacts with {@code artifactType} and an empty config).
 */
public final class ManifestParser {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ManifestParser() {
    }

    /**
     * @param bytes       the manifest as pushed
     * @param contentType the request's Content-Type, or null
     */
    public static Manifest parse(byte[] bytes, String contentType) throws ManifestInvalidException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ManifestInvalidException("manifest is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new ManifestInvalidException("manifest is not readable: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ManifestInvalidException("manifest must be a JSON object");
        }
        JsonNode schema = root.get("schemaVersion");
        if (schema == null || !schema.isIntegralNumber() || !schema.canConvertToLong() || schema.asLong() != 2) {
            throw new ManifestInvalidException("schemaVersion must be 2");
        }
        String mediaType = mediaType(root, contentType);
        Descriptor subject = root.has("subject") ? descriptor(root.get("subject"), "subject") : null;
        String artifactType = optionalString(root, "artifactType");
        Map<String, String> annotations = annotations(root.get("annotations"), "annotations");
        if (MediaTypes.isIndex(mediaType)) {
            if (root.has("config") || root.has("layers")) {
                throw new ManifestInvalidException("an index must not have config or layers");
            }
            List<Descriptor> manifests = descriptors(root, "manifests", true);
            return new Manifest(mediaType, null, List.of(), manifests, subject, artifactType, annotations);
        }
        if (root.has("manifests")) {
            throw new ManifestInvalidException("an image manifest must not have manifests");
        }
        if (!root.has("config")) {
            throw new ManifestInvalidException("config is required");
        }
        Descriptor config = descriptor(root.get("config"), "config");
        List<Descriptor> layers = descriptors(root, "layers", true);
        return new Manifest(mediaType, config, layers, List.of(), subject, artifactType, annotations);
    }

    /**
     * The manifest's media type: its {@code mediaType} field, which must agree with a specific
     * Content-Type; otherwise the Content-Type; otherwise inferred from the structure (OCI types may
     * omit the field).
     */
    private static String mediaType(JsonNode root, String contentType) throws ManifestInvalidException {
        String field = optionalString(root, "mediaType");
        String header = MediaTypes.essence(contentType);
        boolean specificHeader = header != null && !header.equals("application/json")
                && !header.equals("application/octet-stream");
        if (field != null) {
            if (specificHeader && !header.equals(field)) {
                throw new ManifestInvalidException("mediaType " + field + " does not match Content-Type " + header);
            }
            return known(field);
        }
        if (specificHeader) {
            String type = known(header);
            if (type.startsWith("application/vnd.docker.")) {
                throw new ManifestInvalidException("mediaType field is required for " + type);
            }
            return type;
        }
        return root.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
    }

    private static String known(String mediaType) throws ManifestInvalidException {
        if (!MediaTypes.MANIFESTS.contains(mediaType)) {
            throw new ManifestInvalidException("unsupported manifest media type: " + mediaType);
        }
        return mediaType;
    }

    private static List<Descriptor> descriptors(JsonNode root, String field, boolean required)
            throws ManifestInvalidException {
        JsonNode array = root.get(field);
        if (array == null || array.isNull()) {
            if (required) {
                throw new ManifestInvalidException(field + " is required");
            }
            return List.of();
        }
        if (!array.isArray()) {
            throw new ManifestInvalidException(field + " must be an array");
        }
        List<Descriptor> result = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            result.add(descriptor(array.get(i), field + "[" + i + "]"));
        }
        return List.copyOf(result);
    }

    private static Descriptor descriptor(JsonNode node, String where) throws ManifestInvalidException {
        if (node == null || !node.isObject()) {
            throw new ManifestInvalidException(where + " must be a descriptor object");
        }
        String mediaType = optionalString(node, "mediaType", where);
        if (mediaType == null || mediaType.isBlank()) {
            throw new ManifestInvalidException(where + ".mediaType is required");
        }
        String digestText = optionalString(node, "digest", where);
        if (digestText == null) {
            throw new ManifestInvalidException(where + ".digest is required");
        }
        Digest digest;
        try {
            digest = Digest.parse(digestText);
        } catch (InvalidDigestException e) {
            throw new ManifestInvalidException(where + ".digest: " + e.getMessage());
        }
        JsonNode size = node.get("size");
        if (size == null || !size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 0) {
            throw new ManifestInvalidException(where + ".size must be a non-negative integer");
        }
        List<String> urls = new ArrayList<>();
        JsonNode urlsNode = node.get("urls");
        if (urlsNode != null && !urlsNode.isNull()) {
            if (!urlsNode.isArray()) {
                throw new ManifestInvalidException(where + ".urls must be an array of strings");
            }
            for (JsonNode u : urlsNode) {
                if (!u.isTextual()) {
                    throw new ManifestInvalidException(where + ".urls must be an array of strings");
                }
                urls.add(u.asText());
            }
        }
        Platform platform = null;
        JsonNode p = node.get("platform");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) {
                throw new ManifestInvalidException(where + ".platform must be an object");
            }
            platform = new Platform(optionalString(p, "os", where + ".platform"),
                    optionalString(p, "architecture", where + ".platform"),
                    optionalString(p, "variant", where + ".platform"));
        }
        return new Descriptor(mediaType, digest, size.asLong(), optionalString(node, "artifactType", where),
                annotations(node.get("annotations"), where + ".annotations"), List.copyOf(urls), platform);
    }

    private static Map<String, String> annotations(JsonNode node, String where) throws ManifestInvalidException {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new ManifestInvalidException(where + " must be a map of strings");
        }
        Map<String, String> result = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ManifestInvalidException(where + "." + e.getKey() + " must be a string");
            }
            result.put(e.getKey(), e.getValue().asText());
        }
        return Collections.unmodifiableMap(result);
    }

    private static String optionalString(JsonNode node, String field) throws ManifestInvalidException {
        return optionalString(node, field, null);
    }

    private static String optionalString(JsonNode node, String field, String where) throws ManifestInvalidException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new ManifestInvalidException((where == null ? "" : where + ".") + field + " must be a string");
        }
        return v.asText();
    }
}
