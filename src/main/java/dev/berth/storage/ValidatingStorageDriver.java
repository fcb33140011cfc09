package dev.berth.storage;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one decorator around every driver: rejects keys outside the grammar before they reach a
 * backend (so no driver can be walked out of its root), puts the driver's name on I/O errors, and
 * logs calls slower than a threshold. Drivers themselves stay free of these checks.
 */
public final class ValidatingStorageDriver implements StorageDriver {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatingStorageDriver.class);
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private static final long SLOW_NANOS = 2_000_000_000L;

    private final StorageDriver delegate;

    public ValidatingStorageDriver(StorageDriver delegate) {
        this.delegate = delegate;
    }

    /** Checks a key against the grammar described on {@link StorageDriver}. */
    public static String checkKey(String key, boolean rootAllowed) {
        if (key == null) {
            throw new InvalidKeyException("null storage key");
        }
        if (key.isEmpty()) {
            if (rootAllowed) {
                return key;
            }
            throw new InvalidKeyException("empty storage key");
        }
        if (key.length() > 4096 || !KEY.matcher(key).matches()) {
            throw new InvalidKeyException("invalid storage key: " + key);
        }
        for (String segment : key.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new InvalidKeyException("invalid storage key: " + key);
            }
        }
        return key;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public byte[] getContent(String key) throws IOException {
        return call("getContent", key, () -> delegate.getContent(checkKey(key, false)));
    }

    @Override
    public void putContent(String key, byte[] content) throws IOException {
        call("putContent", key, () -> {
            delegate.putContent(checkKey(key, false), content);
            return null;
        });
    }

    @Override
    public InputStream reader(String key, long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        return call("reader", key, () -> delegate.reader(checkKey(key, false), offset));
    }

    @Override
    public StorageWriter writer(String key, boolean append) throws IOException {
        return call("writer", key, () -> delegate.writer(checkKey(key, false), append));
    }

    @Override
    public FileInfo stat(String key) throws IOException {
        return call("stat", key, () -> delegate.stat(checkKey(key, false)));
    }

    @Override
    public List<String> list(String key) throws IOException {
        return call("list", key, () -> delegate.list(checkKey(key, true)));
    }

    @Override
    public void move(String source, String dest) throws IOException {
        checkKey(dest, false);
        call("move", source, () -> {
            delegate.move(checkKey(source, false), dest);
            return null;
        });
    }

    @Override
    public void delete(String key) throws IOException {
        call("delete", key, () -> {
            delegate.delete(checkKey(key, false));
            return null;
        });
    }

    @Override
    public Optional<URI> redirectUrl(String key, String method) throws IOException {
        return call("redirectUrl", key, () -> delegate.redirectUrl(checkKey(key, false), method));
    }

    @Override
    public void walk(String key, Visitor visitor) throws IOException {
        call("walk", key, () -> {
            delegate.walk(checkKey(key, true), visitor);
            return null;
        });
    }

    @Override
    public Optional<Path> localFile(String key) {
        return delegate.localFile(checkKey(key, false));
    }

    @Override
    public int purgeAbandonedWrites(Instant cutoff) throws IOException {
        return call("purgeAbandonedWrites", "", () -> delegate.purgeAbandonedWrites(cutoff));
    }

    @Override
    public Map<String, Long> requestCounts() {
        return delegate.requestCounts();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    private interface Call<T> {
        T run() throws IOException;
    }

    private <T> T call(String op, String key, Call<T> call) throws IOException {
        long start = System.nanoTime();
        try {
            return call.run();
        } catch (PathNotFoundException e) {
            throw e.getMessage().startsWith(name() + ":") ? e : new PathNotFoundException(e.key(), name());
        } catch (StorageUnavailableException e) {
            throw e;
        } catch (IOException e) {
            String message = e.getMessage();
            if (message != null && message.startsWith(name() + ":")) {
                throw e;
            }
            throw new IOException(name() + ": " + op + " " + key + ": " + message, e);
        } finally {
            long elapsed = System.nanoTime() - start;
            if (elapsed > SLOW_NANOS) {
                LOG.atWarn().addKeyValue("driver", name()).addKeyValue("op", op).addKeyValue("key", key)
                        .addKeyValue("ms", elapsed / 1_000_000).log("slow storage call");
            }
        }
    }
}
