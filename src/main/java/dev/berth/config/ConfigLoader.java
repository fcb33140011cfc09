package dev.berth.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads the configuration in layers, each overriding the one before: defaults (from the records),
 * the YAML file, environment variables, then explicit overrides (command-line flags).
 *
 * <p>Every key has an environment variable: {@code BERTH_} followed by the key path in upper snake
 * case, e.g. {@code storage.root} → {@code BERTH_STORAGE_ROOT}, {@code registry.maxManifestSize}
 * → {@code BERTH_REGISTRY_MAX_MANIFEST_SIZE}.
 */
public final class ConfigLoader {
    private static final Set<String> LOG_FORMATS = Set.of("text", "json");
    private static final Set<String> LOG_LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");
    private static final Set<String> DRIVERS = Set.of("filesystem", "inmemory", "s3");

    private final ObjectMapper mapper;

    public ConfigLoader() {
        SimpleModule module = new SimpleModule("berth-config");
        module.addSerializer(Duration.class, new JsonSerializer<>() {
            @Override
            public void serialize(Duration value, JsonGenerator gen, SerializerProvider p) throws IOException {
                gen.writeString(Durations.format(value));
            }
        });
        module.addDeserializer(Duration.class, new JsonDeserializer<>() {
            @Override
            public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                try {
                    return Durations.parse(p.getValueAsString(""));
                } catch (IllegalArgumentException e) {
                    throw JsonMappingException.from(p, e.getMessage());
                }
            }
        });
        module.addSerializer(DataSize.class, new JsonSerializer<>() {
            @Override
            public void serialize(DataSize value, JsonGenerator gen, SerializerProvider p) throws IOException {
                gen.writeString(value.toString());
            }
        });
        module.addDeserializer(DataSize.class, new JsonDeserializer<>() {
            @Override
            public DataSize deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                try {
                    return DataSize.parse(p.getValueAsString(""));
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw JsonMappingException.from(p, e.getMessage());
                }
            }
        });
        this.mapper = new ObjectMapper(new YAMLFactory())
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .registerModule(module)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }

    /**
     * @param file      the YAML file, or null for none
     * @param required  whether a missing file is an error (true when the user named it)
     * @param env       environment variables
     * @param overrides dotted key → value, applied last
     */
    public BerthConfig load(Path file, boolean required, Map<String, String> env, Map<String, String> overrides) {
        ObjectNode tree = mapper.valueToTree(BerthConfig.defaults());
        if (file != null) {
            try {
                JsonNode fileTree = mapper.readTree(Files.readAllBytes(file));
                if (fileTree != null && !fileTree.isMissingNode() && !fileTree.isNull()) {
                    if (!fileTree.isObject()) {
                        throw new ConfigException(file + ": expected a mapping of sections at the top level");
                    }
                    merge(tree, (ObjectNode) fileTree, "");
                }
            } catch (NoSuchFileException e) {
                if (required) {
                    throw new ConfigException("config file not found: " + file);
                }
            } catch (JsonProcessingException e) {
                throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
            }
        }
        for (String key : leafKeys(tree, "")) {
            String value = env.get(envName(key));
            if (value != null) {
                set(tree, key, value, "environment variable " + envName(key));
            }
        }
        overrides.forEach((key, value) -> set(tree, key, value, "override"));
        BerthConfig config;
        try {
            config = mapper.treeToValue(tree, BerthConfig.class);
        } catch (JsonMappingException e) {
            String path = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            throw new ConfigException(path + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ConfigException("invalid configuration: " + e.getOriginalMessage());
        }
        validate(config);
        return config;
    }

    /** The environment variable for a dotted key. */
    public static String envName(String dottedKey) {
        StringBuilder b = new StringBuilder("BERTH");
        for (String part : dottedKey.split("\\.")) {
            b.append('_');
            for (char c : part.toCharArray()) {
                if (Character.isUpperCase(c)) {
                    b.append('_');
                }
                b.append(Character.toUpperCase(c));
            }
        }
        return b.toString();
    }

    /** Overlays {@code source} on {@code target}, rejecting keys the defaults don't have. */
    private void merge(ObjectNode target, ObjectNode source, String path) {
        Iterator<Map.Entry<String, JsonNode>> fields = source.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            JsonNode existing = target.get(field.getKey());
            if (existing == null) {
                throw new ConfigException(key + ": unknown key" + suggestion(target));
            }
            JsonNode value = field.getValue();
            if (existing.isObject() && existing.size() > 0) {
                if (value.isNull()) {
                    continue;
                }
                if (!value.isObject()) {
                    throw new ConfigException(key + ": expected a mapping");
                }
                merge((ObjectNode) existing, (ObjectNode) value, key);
            } else if (!value.isNull()) {
                target.set(field.getKey(), value);
            }
        }
    }

    private static String suggestion(ObjectNode siblings) {
        List<String> names = new ArrayList<>();
        siblings.fieldNames().forEachRemaining(names::add);
        return names.isEmpty() ? "" : " (known here: " + String.join(", ", names) + ")";
    }

    private static List<String> leafKeys(JsonNode node, String path) {
        List<String> keys = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String key = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
            if (f.getValue().isObject() && f.getValue().size() > 0) {
                keys.addAll(leafKeys(f.getValue(), key));
            } else {
                keys.add(key);
            }
        }
        return keys;
    }

    private static void set(ObjectNode tree, String dottedKey, String value, String source) {
        String[] parts = dottedKey.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (!(child instanceof ObjectNode)) {
                throw new ConfigException(dottedKey + " (" + source + "): unknown key");
            }
            node = (ObjectNode) child;
        }
        if (!node.has(parts[parts.length - 1])) {
            throw new ConfigException(dottedKey + " (" + source + "): unknown key");
        }
        node.set(parts[parts.length - 1], TextNode.valueOf(value));
    }

    private static void validate(BerthConfig c) {
        try {
            ListenAddress.parse(c.http().listen());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("http.listen: " + e.getMessage());
        }
        positive("http.idleTimeout", c.http().idleTimeout());
        if (c.http().shutdownTimeout().isNegative()) {
            throw new ConfigException("http.shutdownTimeout: must not be negative");
        }
        if (!DRIVERS.contains(c.storage().driver())) {
            throw new ConfigException("storage.driver: unknown driver '" + c.storage().driver()
                    + "' (expected one of " + String.join(", ", DRIVERS.stream().sorted().toList()) + ")");
        }
        if (c.storage().root().isBlank()) {
            throw new ConfigException("storage.root: must name a directory");
        }
        if (c.storage().driver().equals("s3")) {
            validateS3(c.storage().s3());
        }
        positive("storage.uploads.purgeAfter", c.storage().uploads().purgeAfter());
        positive("storage.uploads.purgeInterval", c.storage().uploads().purgeInterval());
        if (c.registry().maxManifestSize().bytes() < 1024) {
            throw new ConfigException("registry.maxManifestSize: must be at least 1KiB");
        }
        if (c.registry().cache().entries() < 0) {
            throw new ConfigException("registry.cache.entries: must not be negative");
        }
        validateNotifications(c.notifications());
        validateMirror(c.mirror());
        validateTls(c.tls());
        validateLimits(c.limits());
        validateAuth(c.auth());
        if (c.audit().maxFileSize().bytes() < 4096) {
            throw new ConfigException("audit.maxFileSize: at least 4KiB (got " + c.audit().maxFileSize() + ")");
        }
        if (c.audit().maxFiles() < 1 || c.audit().maxFiles() > 100) {
            throw new ConfigException("audit.maxFiles: between 1 and 100 (got " + c.audit().maxFiles() + ")");
        }
        if (c.deploy().lostAfter().compareTo(java.time.Duration.ofSeconds(31)) < 0) {
            throw new ConfigException("deploy.lostAfter: must be at least 31s (a node is disconnected after 30s)");
        }
        for (String host : c.deploy().registryHosts()) {
            if (host == null || host.isBlank() || host.contains("/")) {
                throw new ConfigException("deploy.registryHosts: '" + host + "' is not a host[:port]");
            }
        }
        if (!LOG_LEVELS.contains(c.log().level().toLowerCase(Locale.ROOT))) {
            throw new ConfigException("log.level: expected one of trace, debug, info, warn, error, off");
        }
        if (!LOG_FORMATS.contains(c.log().format().toLowerCase(Locale.ROOT))) {
            throw new ConfigException("log.format: expected text or json");
        }
    }

    private static final Set<String> AUTH_MODES = Set.of("none", "basic", "token");
    private static final Set<String> ACTIONS = Set.of("pull", "push", "delete", "*");

    private static void validateAuth(BerthConfig.AuthConfig a) {
        if (!AUTH_MODES.contains(a.mode())) {
            throw new ConfigException("auth.mode: expected none, basic or token (got '" + a.mode() + "')");
        }
        if (!a.service().matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")) {
            throw new ConfigException("auth.service: letters, digits, '.', '_', ':' or '-' (got '" + a.service() + "')");
        }
        if (!a.realm().isEmpty() && httpUrl(a.realm()) == null) {
            throw new ConfigException("auth.realm: not an absolute http(s) URL: '" + a.realm() + "'");
        }
        if (a.users().isBlank()) {
            throw new ConfigException("auth.users: must name a file");
        }
        if (a.groups().isBlank()) {
            throw new ConfigException("auth.groups: must name a file");
        }
        if (a.tokenTtl().compareTo(Duration.ofSeconds(10)) < 0 || a.tokenTtl().compareTo(Duration.ofHours(24)) > 0) {
            throw new ConfigException("auth.tokenTtl: between 10s and 24h (got " + Durations.format(a.tokenTtl()) + ")");
        }
        if (a.refreshTtl().compareTo(Duration.ofMinutes(1)) < 0 || a.refreshTtl().compareTo(Duration.ofDays(366)) > 0) {
            throw new ConfigException("auth.refreshTtl: between 1m and 366d (got " + Durations.format(a.refreshTtl()) + ")");
        }
        if (a.pullCredentialTtl().compareTo(Duration.ofMinutes(5)) < 0
                || a.pullCredentialTtl().compareTo(Duration.ofDays(1)) > 0) {
            throw new ConfigException("auth.pullCredentialTtl: between 5m and 24h (got "
                    + Durations.format(a.pullCredentialTtl()) + ")");
        }
        for (String u : a.admins().users()) {
            if (u == null || u.isBlank()) {
                throw new ConfigException("auth.admins.users: names must not be empty");
            }
        }
        for (String g : a.admins().groups()) {
            if (g == null || g.isBlank()) {
                throw new ConfigException("auth.admins.groups: names must not be empty");
            }
        }
        for (int i = 0; i < a.rules().size(); i++) {
            String key = "auth.rules[" + i + "]";
            BerthConfig.AccessRuleConfig r = a.rules().get(i);
            if (r == null) {
                throw new ConfigException(key + ": must not be empty");
            }
            if (r.repositories().isEmpty()) {
                throw new ConfigException(key + ".repositories: at least one repository glob is needed");
            }
            for (String glob : r.repositories()) {
                if (glob == null || !glob.matches("[a-z0-9._/*-]+")) {
                    throw new ConfigException(key + ".repositories: '" + glob + "' is not a repository glob"
                            + " (lower-case letters, digits, '.', '_', '-', '/', '*' and '**')");
                }
            }
            if (r.actions().isEmpty()) {
                throw new ConfigException(key + ".actions: at least one of pull, push, delete or *");
            }
            for (String action : r.actions()) {
                if (!ACTIONS.contains(action)) {
                    throw new ConfigException(key + ".actions: unknown action '" + action
                            + "' (expected pull, push, delete or *)");
                }
            }
            if (r.users().isEmpty() && r.groups().isEmpty() && !r.anonymous()) {
                throw new ConfigException(key + ": names no one (give users, groups or anonymous: true)");
            }
        }
    }

    private static void validateS3(BerthConfig.S3Config s3) {
        // Bucket names: 3 to 63 lower-case letters, digits, '.' and '-' (what S3 and its clones accept).
        if (!s3.bucket().matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new ConfigException("storage.s3.bucket: required with storage.driver s3; 3 to 63 lower-case letters,"
                    + " digits, '.' or '-' (got '" + s3.bucket() + "')");
        }
        if (s3.region().isBlank()) {
            throw new ConfigException("storage.s3.region: must not be empty");
        }
        if (!s3.endpoint().isEmpty() && httpUrl(s3.endpoint()) == null) {
            throw new ConfigException("storage.s3.endpoint: not an absolute http(s) URL: '" + s3.endpoint() + "'");
        }
        if (!s3.prefix().isEmpty() && (!s3.prefix().matches("([A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+/?")
                || Arrays.stream(s3.prefix().split("/")).anyMatch(seg -> seg.equals(".") || seg.equals("..")))) {
            throw new ConfigException("storage.s3.prefix: '/'-separated segments of letters, digits, '.', '_' or '-'"
                    + " (not '.' or '..')");
        }
        if (s3.accessKey().isEmpty() != s3.secretKey().isEmpty()) {
            throw new ConfigException("storage.s3." + (s3.accessKey().isEmpty() ? "accessKey" : "secretKey")
                    + ": accessKey and secretKey go together (leave both empty for the AWS default credentials)");
        }
        long part = s3.partSize().bytes();
        if (part < 5L * 1024 * 1024 || part > 1024L * 1024 * 1024) {
            throw new ConfigException("storage.s3.partSize: must be between 5MiB (the S3 minimum) and 1GiB");
        }
        if (s3.maxConcurrency() < 1 || s3.maxConcurrency() > 1024) {
            throw new ConfigException("storage.s3.maxConcurrency: must be between 1 and 1024");
        }
        positive("storage.s3.presignTtl", s3.presignTtl());
        if (s3.presignTtl().compareTo(java.time.Duration.ofDays(7)) > 0) {
            throw new ConfigException("storage.s3.presignTtl: at most 7d (the longest S3 signs for)");
        }
        if (s3.metadataTtl().isNegative()) {
            throw new ConfigException("storage.s3.metadataTtl: must not be negative");
        }
    }

    private static final String NAME_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";

    private static void validateLimits(BerthConfig.LimitsConfig l) {
        if (l.headerTimeout().isNegative()) {
            throw new ConfigException("limits.headerTimeout: must not be negative (0: no limit)");
        }
        if (l.requestsPerSecond().isNaN() || l.requestsPerSecond() < 0) {
            throw new ConfigException("limits.requestsPerSecond: must not be negative (0: no limit)");
        }
        if (l.burst() < 0) {
            throw new ConfigException("limits.burst: must not be negative (0: twice requestsPerSecond)");
        }
        if (l.concurrentUploads() < 0) {
            throw new ConfigException("limits.concurrentUploads: must not be negative (0: no limit)");
        }
        if (l.maxHeaderSize().bytes() < 1024 || l.maxHeaderSize().bytes() > (1 << 20)) {
            throw new ConfigException("limits.maxHeaderSize: between 1KiB and 1MiB (got " + l.maxHeaderSize() + ")");
        }
    }

    private static void validateTls(BerthConfig.TlsConfig t) {
        if (t.auto() && (!t.certFile().isEmpty() || !t.keyFile().isEmpty())) {
            throw new ConfigException("tls.auto: either auto (a generated certificate) or certFile and keyFile, not both");
        }
        if (t.certFile().isEmpty() != t.keyFile().isEmpty()) {
            throw new ConfigException("tls." + (t.certFile().isEmpty() ? "certFile" : "keyFile")
                    + ": certFile and keyFile go together");
        }
        if (!t.minVersion().equals("TLSv1.2") && !t.minVersion().equals("TLSv1.3")) {
            throw new ConfigException("tls.minVersion: TLSv1.2 or TLSv1.3 (got '" + t.minVersion() + "')");
        }
        for (int i = 0; i < t.names().size(); i++) {
            String name = t.names().get(i);
            if (name == null || !name.matches("[A-Za-z0-9.*-]+|\\[?[0-9A-Fa-f:.]+]?")) {
                throw new ConfigException("tls.names[" + i + "]: a host name or an IP address (got '" + name + "')");
            }
        }
        if (!t.names().isEmpty() && !t.auto()) {
            throw new ConfigException("tls.names: only for tls.auto (a certificate from files has its own names)");
        }
        if (t.agentCertificateTtl().compareTo(Duration.ofSeconds(10)) < 0
                || t.agentCertificateTtl().compareTo(Duration.ofDays(3650)) > 0) {
            throw new ConfigException("tls.agentCertificateTtl: between 10s and 3650d (got "
                    + Durations.format(t.agentCertificateTtl()) + ")");
        }
    }

    private static void validateMirror(BerthConfig.MirrorConfig m) {
        Set<String> names = new HashSet<>();
        Set<String> hosts = new HashSet<>();
        List<String> prefixes = new java.util.ArrayList<>();
        boolean defaultSeen = false;
        for (int i = 0; i < m.upstreams().size(); i++) {
            BerthConfig.UpstreamConfig u = m.upstreams().get(i);
            String key = "mirror.upstreams[" + i + "]";
            if (u.name() == null || !u.name().matches(NAME_COMPONENT) || u.name().length() > 64) {
                throw new ConfigException(key + ".name: required; lower-case letters and digits, separated by '.', '_' or '-'");
            }
            if (!names.add(u.name())) {
                throw new ConfigException(key + ".name: '" + u.name() + "' is used by another upstream");
            }
            URI url = httpUrl(u.url());
            if (url == null || (url.getRawPath() != null && url.getRawPath().length() > 1) || url.getRawQuery() != null) {
                throw new ConfigException(key + ".url: expected the registry's base URL, http(s)://host[:port] (got '"
                        + u.url() + "')");
            }
            if (!u.host().isEmpty()) {
                if (!u.host().matches("[A-Za-z0-9.-]+(:[0-9]+)?")) {
                    throw new ConfigException(key + ".host: a registry host[:port] such as docker.io (got '" + u.host() + "')");
                }
                if (!hosts.add(u.host().toLowerCase(Locale.ROOT))) {
                    throw new ConfigException(key + ".host: '" + u.host() + "' is served by another upstream");
                }
            }
            if (!u.prefix().isEmpty()) {
                if (!u.prefix().matches("(" + NAME_COMPONENT + "/)+")) {
                    throw new ConfigException(key + ".prefix: repository name components ending with '/', e.g. hub/ (got '"
                            + u.prefix() + "')");
                }
                for (String other : prefixes) {
                    if (other.startsWith(u.prefix()) || u.prefix().startsWith(other)) {
                        throw new ConfigException(key + ".prefix: '" + u.prefix() + "' overlaps '" + other + "'");
                    }
                }
                prefixes.add(u.prefix());
            }
            if (u.isDefault()) {
                if (defaultSeen) {
                    throw new ConfigException(key + ".default: only one upstream can be the default");
                }
                defaultSeen = true;
            }
            if (u.host().isEmpty() && u.prefix().isEmpty() && !u.isDefault()) {
                throw new ConfigException(key + ": no request would reach it; give it a host, a prefix or default: true");
            }
            if (u.username().isEmpty() != u.password().isEmpty()) {
                throw new ConfigException(key + "." + (u.username().isEmpty() ? "username" : "password")
                        + ": username and password go together");
            }
            if (!u.token().isEmpty() && !u.username().isEmpty()) {
                throw new ConfigException(key + ".token: either a token or a username and password, not both");
            }
            if (u.tagTtl().isNegative()) {
                throw new ConfigException(key + ".tagTtl: must not be negative");
            }
            positive(key + ".timeout", u.timeout());
        }
        if (m.cache().ttl().isNegative()) {
            throw new ConfigException("mirror.cache.ttl: must not be negative (0 keeps content however long it goes unpulled)");
        }
        positive("mirror.cache.evictInterval", m.cache().evictInterval());
    }

    /** {@code text} as an absolute http(s) URL with a host, or null when it is not one. */
    private static URI httpUrl(String text) {
        if (text == null) {
            return null;
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            // The authority, not getHost(): host names with '_' (compose service names) have no "host" to java.net.URI.
            String authority = uri.getRawAuthority();
            boolean ok = (scheme.equals("http") || scheme.equals("https")) && authority != null && !authority.isEmpty()
                    && !authority.startsWith(":");
            return ok ? uri : null;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static void validateNotifications(BerthConfig.NotificationsConfig n) {
        positive("notifications.retention", n.retention());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < n.endpoints().size(); i++) {
            BerthConfig.EndpointConfig e = n.endpoints().get(i);
            String key = "notifications.endpoints[" + i + "]";
            if (e.name() == null || !e.name().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new ConfigException(key + ".name: required, letters, digits, '.', '_' or '-' (at most 64)");
            }
            if (!names.add(e.name())) {
                throw new ConfigException(key + ".name: '" + e.name() + "' is used by another endpoint");
            }
            if (e.url() == null || e.url().isBlank()) {
                throw new ConfigException(key + ".url: required");
            }
            if (httpUrl(e.url()) == null) {
                throw new ConfigException(key + ".url: not an absolute http(s) URL: '" + e.url() + "'");
            }
            positive(key + ".timeout", e.timeout());
            positive(key + ".backoff.initial", e.backoff().initial());
            positive(key + ".backoff.max", e.backoff().max());
            if (e.backoff().max().compareTo(e.backoff().initial()) < 0) {
                throw new ConfigException(key + ".backoff.max: must not be less than backoff.initial");
            }
            if (e.maxAttempts() < 1) {
                throw new ConfigException(key + ".maxAttempts: must be at least 1");
            }
            if (e.batchSize() < 1 || e.batchSize() > 1000) {
                throw new ConfigException(key + ".batchSize: must be between 1 and 1000");
            }
            for (String action : e.filter().actions()) {
                if (!BerthConfig.FilterConfig.ACTIONS.contains(action)) {
                    throw new ConfigException(key + ".filter.actions: unknown action '" + action
                            + "' (expected push, pull, mount or delete)");
                }
            }
            if (!e.filter().preset().isEmpty() && !BerthConfig.FilterConfig.PRESETS.contains(e.filter().preset())) {
                throw new ConfigException(key + ".filter.preset: unknown preset '" + e.filter().preset()
                        + "' (expected " + BerthConfig.FilterConfig.MANIFEST_PUSHED_BY_TAG + ")");
            }
            for (String glob : e.filter().repositories()) {
                if (glob.isBlank() || !glob.matches("[a-z0-9._/*?-]+")) {
                    throw new ConfigException(key + ".filter.repositories: not a repository glob: '" + glob + "'");
                }
            }
            for (Map.Entry<String, String> header : e.headers().entrySet()) {
                if (!header.getKey().matches("[A-Za-z0-9-]+")) {
                    throw new ConfigException(key + ".headers: not a header name: '" + header.getKey() + "'");
                }
                if (header.getValue() == null || !header.getValue().matches("[\\x20-\\x7e\\t]*")) {
                    throw new ConfigException(key + ".headers." + header.getKey()
                            + ": a header value must be printable ASCII on one line");
                }
            }
        }
    }

    private static void positive(String key, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException(key + ": must be positive");
        }
    }

    /** The configuration as YAML, for {@code berth config show}-style output and tests. */
    public String toYaml(BerthConfig config) {
        try {
            return mapper.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
