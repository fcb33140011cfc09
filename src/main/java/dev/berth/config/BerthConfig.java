package dev.berth.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The whole configuration. Every record fills its defaults in its compact constructor, so a
 * partial YAML file yields a complete config; {@code config/berth.yaml} documents each key.
 */
public record BerthConfig(HttpConfig http, StorageConfig storage, StateConfig state, RegistryConfig registry,
                          NotificationsConfig notifications, LogConfig log, DeployConfig deploy, AgentConfig agent,
                          MirrorConfig mirror, TlsConfig tls, LimitsConfig limits, AuditConfig audit,
                          AuthConfig auth) {

    public BerthConfig {
        http = http == null ? new HttpConfig(null, null, null) : http;
        storage = storage == null ? new StorageConfig(null, null, null, null, null) : storage;
        state = state == null ? new StateConfig(null) : state;
        registry = registry == null ? new RegistryConfig(null, null, null) : registry;
        notifications = notifications == null ? new NotificationsConfig(null, null) : notifications;
        log = log == null ? new LogConfig(null, null, null) : log;
        deploy = deploy == null ? new DeployConfig(null, null, null) : deploy;
        agent = agent == null ? new AgentConfig(null, null, null) : agent;
        mirror = mirror == null ? new MirrorConfig(null, null) : mirror;
        tls = tls == null ? new TlsConfig(null, null, null, null, null) : tls;
        limits = limits == null ? new LimitsConfig(null, null, null, null) : limits;
        audit = audit == null ? new AuditConfig(null, null, null) : audit;
        auth = auth == null ? new AuthConfig(null, null, null, null, null, null, null, null, null, null) : auth;
    }

    public BerthConfig(HttpConfig http, StorageConfig storage, StateConfig state, RegistryConfig registry,
                       NotificationsConfig notifications, LogConfig log, DeployConfig deploy, AgentConfig agent,
                       MirrorConfig mirror) {
        this(http, storage, state, registry, notifications, log, deploy, agent, mirror, null, null, null, null);
    }

    public BerthConfig(HttpConfig http, StorageConfig storage, StateConfig state, RegistryConfig registry,
                       NotificationsConfig notifications, LogConfig log, DeployConfig deploy, AgentConfig agent) {
        this(http, storage, state, registry, notifications, log, deploy, agent, null);
    }

    public BerthConfig(HttpConfig http, StorageConfig storage, StateConfig state, RegistryConfig registry,
                       NotificationsConfig notifications, LogConfig log) {
        this(http, storage, state, registry, notifications, log, null, null);
    }

    public static BerthConfig defaults() {
        return new BerthConfig(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /**
     * Who may do what. {@code mode}: {@code none} (anyone may do anything), {@code basic} (HTTP basic
     * authentication on every request) or {@code token} (Docker token authentication: {@code /v2/}
     * answers 401 with a Bearer challenge naming the built-in token endpoint {@code /auth/token},
     * which issues ES256-signed JWTs). Users live in an htpasswd file ({@code users}, bcrypt) with
     * groups in an Apache-style group file ({@code groups}), both relative to {@code storage.root}
     * and managed with {@code berth user}. {@code admins} may do everything; {@code rules} grant the
     * rest per repository glob.
     */
    public record AuthConfig(String mode, String service, String realm, String users, String groups,
                             AdminsConfig admins, List<AccessRuleConfig> rules, Duration tokenTtl,
                             Duration refreshTtl, Duration pullCredentialTtl) {
        public AuthConfig {
            mode = mode == null ? "none" : mode;
            service = service == null ? "berth" : service;
            realm = realm == null ? "" : realm;
            users = users == null ? "auth/htpasswd" : users;
            groups = groups == null ? "auth/groups" : groups;
            admins = admins == null ? new AdminsConfig(null, null) : admins;
            rules = rules == null ? List.of() : List.copyOf(rules);
            tokenTtl = tokenTtl == null ? Duration.ofMinutes(5) : tokenTtl;
            refreshTtl = refreshTtl == null ? Duration.ofDays(30) : refreshTtl;
            pullCredentialTtl = pullCredentialTtl == null ? Duration.ofHours(1) : pullCredentialTtl;
        }

        /** Whether requests must be authenticated at all. */
        public boolean enabled() {
            return !mode.equals("none");
        }
    }

    /** Users and groups that may do everything: every repository, the catalog and the control-plane API. */
    public record AdminsConfig(List<String> users, List<String> groups) {
        public AdminsConfig {
            users = users == null ? List.of() : List.copyOf(users);
            groups = groups == null ? List.of("admin") : List.copyOf(groups);
        }
    }

    /**
     * One access rule: on repositories matching one of {@code repositories} (globs: {@code *} within
     * a path segment, {@code **} across segments), the listed {@code users} ({@code "*"}: every
     * signed-in user), members of {@code groups}, and with {@code anonymous: true} everyone, may do
     * {@code actions} ({@code pull}, {@code push}, {@code delete}, or {@code "*"} for all three).
     */
    public record AccessRuleConfig(List<String> repositories, List<String> users, List<String> groups,
                                   Boolean anonymous, List<String> actions) {
        public AccessRuleConfig {
            repositories = repositories == null ? List.of() : List.copyOf(repositories);
            users = users == null ? List.of() : List.copyOf(users);
            groups = groups == null ? List.of() : List.copyOf(groups);
            anonymous = anonymous == null ? Boolean.FALSE : anonymous;
            actions = actions == null ? List.of() : List.copyOf(actions);
        }
    }

    /**
     * The audit log of changes (pushes, deletes, control-plane actions, agent registrations): JSON
     * lines in {@code file} (relative to {@code storage.root}; empty: no audit log), rolled over at
     * {@code maxFileSize}, keeping {@code maxFiles} old files.
     */
    public record AuditConfig(String file, DataSize maxFileSize, Integer maxFiles) {
        public AuditConfig {
            file = file == null ? "audit.log" : file;
            maxFileSize = maxFileSize == null ? DataSize.ofMebibytes(100) : maxFileSize;
            maxFiles = maxFiles == null ? 5 : maxFiles;
        }
    }

    /**
     * Limits per client (by remote address) against abuse. {@code requestsPerSecond}: a token bucket
     * refilled at this rate holding {@code burst} requests (0: no limit; burst 0: twice the rate);
     * {@code concurrentUploads}: upload requests one client may have sending bodies at once (0: no
     * limit); {@code maxHeaderSize}: the request line and headers together; {@code headerTimeout}: how
     * long a new connection may take to deliver its first request's headers (0: no limit), against
     * clients that trickle bytes to hold connections open.
     */
    public record LimitsConfig(Double requestsPerSecond, Integer burst, Integer concurrentUploads, DataSize maxHeaderSize,
                               Duration headerTimeout) {
        public LimitsConfig(Double requestsPerSecond, Integer burst, Integer concurrentUploads, DataSize maxHeaderSize) {
            this(requestsPerSecond, burst, concurrentUploads, maxHeaderSize, null);
        }

        public LimitsConfig {
            requestsPerSecond = requestsPerSecond == null ? 0.0 : requestsPerSecond;
            burst = burst == null ? 0 : burst;
            concurrentUploads = concurrentUploads == null ? 0 : concurrentUploads;
            maxHeaderSize = maxHeaderSize == null ? DataSize.ofBytes(16 * 1024) : maxHeaderSize;
            headerTimeout = headerTimeout == null ? Duration.ofSeconds(30) : headerTimeout;
        }


        /** The bucket's size: {@code burst}, or twice the rate (at least one request). */
        public int effectiveBurst() {
            return burst > 0 ? burst : (int) Math.max(1, Math.ceil(2 * requestsPerSecond));
        }
    }

    /**
     * HTTPS. Either PEM files ({@code certFile}: the server's certificate, then its chain;
     * {@code keyFile}: its private key), or {@code auto}: a local certificate authority and a server
     * certificate for {@code names} created at first start under {@code <storage.root>/pki/} (names
     * default to localhost, 127.0.0.1, ::1 and this host's name). {@code minVersion}: TLSv1.2 or
     * TLSv1.3. Neither files nor auto: plain HTTP.
     */
    public record TlsConfig(String certFile, String keyFile, Boolean auto, List<String> names, String minVersion,
                            Duration agentCertificateTtl) {
        public TlsConfig {
            certFile = certFile == null ? "" : certFile;
            keyFile = keyFile == null ? "" : keyFile;
            auto = auto == null ? Boolean.FALSE : auto;
            names = names == null ? List.of() : List.copyOf(names);
            minVersion = minVersion == null ? "TLSv1.2" : minVersion;
            agentCertificateTtl = agentCertificateTtl == null ? Duration.ofDays(365) : agentCertificateTtl;
        }

        public TlsConfig(String certFile, String keyFile, Boolean auto, List<String> names, String minVersion) {
            this(certFile, keyFile, auto, names, minVersion, null);
        }

        /** Whether Berth serves HTTPS. */
        public boolean enabled() {
            return auto || !certFile.isEmpty();
        }
    }

    /**
     * The pull-through mirror: the upstream registries it stands for (none: no mirroring), and how
     * much of what it fetched it keeps.
     */
    public record MirrorConfig(List<UpstreamConfig> upstreams, MirrorCacheConfig cache) {
        public MirrorConfig {
            upstreams = upstreams == null ? List.of() : List.copyOf(upstreams);
            cache = cache == null ? new MirrorCacheConfig(null, null, null) : cache;
        }
    }

    /**
     * Eviction of mirrored content, least recently pulled first. {@code maxSize}: the most bytes the
     * cache holds over all upstreams (0: no cap); {@code ttl}: content not pulled for this long goes
     * (0: kept however old); {@code evictInterval}: how often both are applied.
     */
    public record MirrorCacheConfig(DataSize maxSize, Duration ttl, Duration evictInterval) {
        public MirrorCacheConfig {
            maxSize = maxSize == null ? DataSize.ofBytes(0) : maxSize;
            ttl = ttl == null ? Duration.ofDays(7) : ttl;
            evictInterval = evictInterval == null ? Duration.ofMinutes(1) : evictInterval;
        }
    }

    /**
     * One upstream registry. {@code url}: its API base; {@code host}: the registry host it stands for
     * (what containerd sends as {@code ?ns=}, e.g. {@code docker.io}); {@code prefix}: a path
     * namespace that routes to it (e.g. {@code hub/}); {@code isDefault}: where names no local
     * repository holds go (Docker daemons with {@code registry-mirrors}); credentials (basic, or a
     * fixed bearer {@code token}); {@code tagTtl}: how long a tag is served without asking upstream
     * again; {@code timeout}: connecting and silence; {@code allowPush}: pushes to names routed to
     * it are stored in the local repository of that name (which then answers first) instead of
     * being refused.
     */
    public record UpstreamConfig(String name, String url, String host, String prefix, String username, String password,
                                 String token, Duration tagTtl, @com.fasterxml.jackson.annotation.JsonProperty("default")
                                 Boolean isDefault, Duration timeout, Boolean allowPush) {
        public UpstreamConfig {
            host = host == null ? "" : host;
            prefix = prefix == null ? "" : prefix;
            username = username == null ? "" : username;
            password = password == null ? "" : password;
            token = token == null ? "" : token;
            tagTtl = tagTtl == null ? Duration.ofMinutes(5) : tagTtl;
            isDefault = isDefault == null ? Boolean.FALSE : isDefault;
            timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
            allowPush = allowPush == null ? Boolean.FALSE : allowPush;
        }
    }

    /**
     * The agent inside {@code berth serve}: on ({@code embedded}) when a Docker Engine answers on
     * {@code dockerSocket}, so that one box runs what it deploys; {@code attributes} describe its
     * node for placement.
     */
    public record AgentConfig(Boolean embedded, String dockerSocket, Map<String, String> attributes) {
        public AgentConfig {
            embedded = embedded == null ? Boolean.TRUE : embedded;
            dockerSocket = dockerSocket == null ? "/var/run/docker.sock" : dockerSocket;
            attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
        }
    }

    /**
     * The deployer. {@code hookSecret}: the shared secret that signs pushes other registries send
     * to {@code POST /api/hooks/registry} (empty: that endpoint refuses everything).
     * {@code registryHosts}: extra names under which clients reach this registry, so that images
     * named with them are pinned from it (loopback names and this host's name with Berth's port
     * always are). {@code lostAfter}: how long a node may miss heartbeats before its tasks are
     * replaced elsewhere.
     */
    public record DeployConfig(String hookSecret, List<String> registryHosts, Duration lostAfter) {
        public DeployConfig {
            hookSecret = hookSecret == null ? "" : hookSecret;
            registryHosts = registryHosts == null ? List.of() : List.copyOf(registryHosts);
            lostAfter = lostAfter == null ? Duration.ofSeconds(60) : lostAfter;
        }
    }

    /**
     * The embedded database (webhook outbox, later the control plane). An empty {@code database}
     * means {@code <storage.root>/state.db}, or an in-memory database with the in-memory driver;
     * {@code :memory:} forces one.
     */
    public record StateConfig(String database) {
        public StateConfig {
            database = database == null ? "" : database;
        }
    }

    /** Webhooks: where events go, and how long delivered ones are kept for inspection. */
    public record NotificationsConfig(List<EndpointConfig> endpoints, Duration retention) {
        public NotificationsConfig {
            endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
            retention = retention == null ? Duration.ofDays(7) : retention;
        }
    }

    /** One webhook endpoint. */
    public record EndpointConfig(String name, String url, Map<String, String> headers, Duration timeout, String secret,
                                 FilterConfig filter, BackoffConfig backoff, Integer maxAttempts, Integer batchSize,
                                 Boolean disabled) {
        public EndpointConfig {
            headers = headers == null ? Map.of() : Map.copyOf(headers);
            timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
            secret = secret == null ? "" : secret;
            filter = filter == null ? new FilterConfig(null, null, null, null) : filter;
            backoff = backoff == null ? new BackoffConfig(null, null) : backoff;
            maxAttempts = maxAttempts == null ? 10 : maxAttempts;
            batchSize = batchSize == null ? 10 : batchSize;
            disabled = disabled == null ? Boolean.FALSE : disabled;
        }
    }

    /** Which events an endpoint gets; empty lists mean any. */
    public record FilterConfig(List<String> actions, List<String> mediaTypes, List<String> repositories, String preset) {
        /** The event actions a filter may name. */
        public static final Set<String> ACTIONS = Set.of("push", "pull", "mount", "delete");
        /** Ready-made filters: manifests pushed by tag (what deployments follow). */
        public static final String MANIFEST_PUSHED_BY_TAG = "manifest-pushed-by-tag";
        public static final Set<String> PRESETS = Set.of(MANIFEST_PUSHED_BY_TAG);

        public FilterConfig {
            actions = actions == null ? List.of() : List.copyOf(actions);
            mediaTypes = mediaTypes == null ? List.of() : List.copyOf(mediaTypes);
            repositories = repositories == null ? List.of() : List.copyOf(repositories);
            preset = preset == null ? "" : preset;
        }
    }

    /** Retry delays: doubling from {@code initial} up to {@code max}, each with random jitter. */
    public record BackoffConfig(Duration initial, Duration max) {
        public BackoffConfig {
            initial = initial == null ? Duration.ofSeconds(1) : initial;
            max = max == null ? Duration.ofMinutes(5) : max;
        }
    }

    /** The HTTP listener. */
    public record HttpConfig(String listen, Duration idleTimeout, Duration shutdownTimeout) {
        public HttpConfig {
            listen = listen == null ? "0.0.0.0:5000" : listen;
            idleTimeout = idleTimeout == null ? Duration.ofMinutes(2) : idleTimeout;
            shutdownTimeout = shutdownTimeout == null ? Duration.ofSeconds(30) : shutdownTimeout;
        }
    }

    /** Where data lives. {@code root} is Berth's data directory whatever the blob driver. */
    public record StorageConfig(String driver, String root, FilesystemConfig filesystem, S3Config s3,
                                UploadsConfig uploads) {
        public StorageConfig {
            driver = driver == null ? "filesystem" : driver;
            root = root == null ? "storage" : root;
            filesystem = filesystem == null ? new FilesystemConfig(null) : filesystem;
            s3 = s3 == null ? new S3Config(null, null, null, null, null, null, null, null, null, null, null, null) : s3;
            uploads = uploads == null ? new UploadsConfig(null, null) : uploads;
        }

        public StorageConfig(String driver, String root, FilesystemConfig filesystem, UploadsConfig uploads) {
            this(driver, root, filesystem, null, uploads);
        }
    }

    /**
     * The S3 driver: the bucket and how to reach it ({@code endpoint} for S3-compatible stores, empty
     * for AWS), a key {@code prefix}, static credentials (empty: the AWS default provider chain),
     * {@code partSize} (the memory one upload holds), {@code maxConcurrency} (connections to the
     * store), {@code redirect} (blob GETs answered with a 307 to a presigned URL valid for
     * {@code presignTtl}), and {@code metadataTtl}: how long tags and repository links are cached,
     * since other replicas on the same bucket may change them.
     */
    public record S3Config(String bucket, String region, String endpoint, Boolean pathStyle, String prefix,
                           String accessKey, String secretKey, DataSize partSize, Integer maxConcurrency,
                           Boolean redirect, Duration presignTtl, Duration metadataTtl) {
        public S3Config {
            bucket = bucket == null ? "" : bucket;
            region = region == null ? "us-east-1" : region;
            endpoint = endpoint == null ? "" : endpoint;
            pathStyle = pathStyle == null ? Boolean.FALSE : pathStyle;
            prefix = prefix == null ? "" : prefix;
            accessKey = accessKey == null ? "" : accessKey;
            secretKey = secretKey == null ? "" : secretKey;
            partSize = partSize == null ? DataSize.ofMebibytes(10) : partSize;
            maxConcurrency = maxConcurrency == null ? 64 : maxConcurrency;
            redirect = redirect == null ? Boolean.TRUE : redirect;
            presignTtl = presignTtl == null ? Duration.ofMinutes(20) : presignTtl;
            metadataTtl = metadataTtl == null ? Duration.ofSeconds(5) : metadataTtl;
        }
    }

    /** The filesystem driver. */
    public record FilesystemConfig(Boolean fsync) {
        public FilesystemConfig {
            fsync = fsync == null ? Boolean.TRUE : fsync;
        }
    }

    /** Upload sessions: how long an abandoned one is kept, and how often they are checked. */
    public record UploadsConfig(Duration purgeAfter, Duration purgeInterval) {
        public UploadsConfig {
            purgeAfter = purgeAfter == null ? Duration.ofDays(7) : purgeAfter;
            purgeInterval = purgeInterval == null ? Duration.ofHours(1) : purgeInterval;
        }
    }

    /** Registry behaviour. */
    public record RegistryConfig(DataSize maxManifestSize, Boolean deleteEnabled, CacheConfig cache) {
        public RegistryConfig {
            maxManifestSize = maxManifestSize == null ? DataSize.ofMebibytes(4) : maxManifestSize;
            deleteEnabled = deleteEnabled == null ? Boolean.TRUE : deleteEnabled;
            cache = cache == null ? new CacheConfig(null, null) : cache;
        }
    }

    /** In-memory caches of registry metadata. */
    public record CacheConfig(DataSize manifestBytes, Integer entries) {
        public CacheConfig {
            manifestBytes = manifestBytes == null ? DataSize.ofMebibytes(32) : manifestBytes;
            entries = entries == null ? 100_000 : entries;
        }
    }

    /** Logging. */
    public record LogConfig(String level, String format, Boolean requests) {
        public LogConfig {
            level = level == null ? "info" : level;
            format = format == null ? "text" : format;
            requests = requests == null ? Boolean.TRUE : requests;
        }
    }
}
