package dev.berth.config;

import java.time.Duration;

/**
 * The whole configuration. Every record fills its defaults in its compact constructor, so a
 * partial YAML file yields a complete config; {@code config/berth.yaml} documents each key.
 */
public record BerthConfig(HttpConfig http, StorageConfig storage, RegistryConfig registry, LogConfig log) {

    public BerthConfig {
        http = http == null ? new HttpConfig(null, null, null) : http;
        storage = storage == null ? new StorageConfig(null, null, null, null) : storage;
        registry = registry == null ? new RegistryConfig(null, null, null) : registry;
        log = log == null ? new LogConfig(null, null, null) : log;
    }

    public static BerthConfig defaults() {
        return new BerthConfig(null, null, null, null);
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
    public record StorageConfig(String driver, String root, FilesystemConfig filesystem, UploadsConfig uploads) {
        public StorageConfig {
            driver = driver == null ? "filesystem" : driver;
            root = root == null ? "storage" : root;
            filesystem = filesystem == null ? new FilesystemConfig(null) : filesystem;
            uploads = uploads == null ? new UploadsConfig(null, null) : uploads;
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
