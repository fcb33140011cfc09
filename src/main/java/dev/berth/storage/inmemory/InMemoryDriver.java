package dev.berth.storage.inmemory;

import dev.berth.storage.FileInfo;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Objects in a sorted map; directories are derived from key prefixes. Uncommitted writer content is
 * kept apart from committed objects, so it becomes visible only on commit. One lock guards all state:
 * this driver is for tests and small throwaway registries, not for throughput.
 */
public final class InMemoryDriver implements StorageDriver {
    private record Entry(byte[] content, Instant modTime) {
    }

    private final NavigableMap<String, Entry> objects = new TreeMap<>();
    private final Map<String, ByteArrayOutputStream> inProgress = new HashMap<>();

    @Override
    public String name() {
        return "inmemory";
    }

    @Override
    public synchronized byte[] getContent(String key) throws IOException {
        Entry e = objects.get(key);
        if (e == null) {
            throw new PathNotFoundException(key);
        }
        return e.content.clone();
    }

    @Override
    public synchronized void putContent(String key, byte[] content) throws IOException {
        checkNotDirectory(key);
        objects.put(key, new Entry(content.clone(), Instant.now()));
    }

    private void checkNotDirectory(String key) throws IOException {
        if (isDirectory(key)) {
            throw new IOException("is a directory: " + key);
        }
    }

    @Override
    public synchronized InputStream reader(String key, long offset) throws IOException {
        byte[] content = getContent(key);
        int from = (int) Math.min(offset, content.length);
        return new ByteArrayInputStream(content, from, content.length - from);
    }

    @Override
    public synchronized StorageWriter writer(String key, boolean append) throws IOException {
        checkNotDirectory(key);
        ByteArrayOutputStream buffer = append ? inProgress.get(key) : null;
        if (buffer == null) {
            buffer = new ByteArrayOutputStream();
            inProgress.put(key, buffer);
        }
        return new MemoryWriter(key, buffer);
    }

    @Override
    public synchronized FileInfo stat(String key) throws IOException {
        Entry e = objects.get(key);
        if (e != null) {
            return new FileInfo(key, e.content.length, e.modTime, false);
        }
        if (isDirectory(key)) {
            Instant latest = Instant.EPOCH;
            for (Entry child : below(key).values()) {
                latest = child.modTime.isAfter(latest) ? child.modTime : latest;
            }
            return new FileInfo(key, 0, latest, true);
        }
        throw new PathNotFoundException(key);
    }

    private NavigableMap<String, Entry> below(String key) {
        String prefix = key.isEmpty() ? "" : key + "/";
        return objects.subMap(prefix, true, prefix + Character.MAX_VALUE, false);
    }

    private boolean isDirectory(String key) {
        return key.isEmpty() || !below(key).isEmpty();
    }

    @Override
    public synchronized List<String> list(String key) throws IOException {
        if (!isDirectory(key)) {
            throw new PathNotFoundException(key);
        }
        String prefix = key.isEmpty() ? "" : key + "/";
        TreeSet<String> children = new TreeSet<>();
        for (String k : below(key).keySet()) {
            int slash = k.indexOf('/', prefix.length());
            children.add(slash < 0 ? k : k.substring(0, slash));
        }
        return new ArrayList<>(children);
    }

    @Override
    public synchronized void move(String source, String dest) throws IOException {
        Entry e = objects.get(source);
        if (e == null) {
            throw new PathNotFoundException(source);
        }
        checkNotDirectory(dest);
        objects.remove(source);
        objects.put(dest, new Entry(e.content, Instant.now()));
    }

    @Override
    public synchronized void delete(String key) throws IOException {
        boolean found = objects.remove(key) != null;
        NavigableMap<String, Entry> children = below(key);
        found |= !children.isEmpty();
        children.clear();
        inProgress.keySet().removeIf(k -> k.equals(key) || k.startsWith(key + "/"));
        if (!found) {
            throw new PathNotFoundException(key);
        }
    }

    @Override
    public Optional<URI> redirectUrl(String key, String method) {
        return Optional.empty();
    }

    private final class MemoryWriter implements StorageWriter {
        private final String key;
        private final ByteArrayOutputStream buffer;
        private boolean done;
        private boolean committed;

        MemoryWriter(String key, ByteArrayOutputStream buffer) {
            this.key = key;
            this.buffer = buffer;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            synchronized (InMemoryDriver.this) {
                if (done) {
                    throw new IOException("writer for " + key + " is finished");
                }
                byte[] chunk = new byte[src.remaining()];
                src.get(chunk);
                buffer.write(chunk);
            }
        }

        @Override
        public long size() {
            synchronized (InMemoryDriver.this) {
                return buffer.size();
            }
        }

        @Override
        public void commit() throws IOException {
            synchronized (InMemoryDriver.this) {
                if (done) {
                    throw new IOException("writer for " + key + " is finished");
                }
                done = true;
                committed = true;
                inProgress.remove(key, buffer);
                objects.put(key, new Entry(buffer.toByteArray(), Instant.now()));
            }
        }

        @Override
        public void cancel() {
            synchronized (InMemoryDriver.this) {
                done = true;
                inProgress.remove(key, buffer);
                if (committed) {
                    objects.remove(key);
                }
            }
        }

        @Override
        public void close() {
            synchronized (InMemoryDriver.this) {
                done = true;
            }
        }
    }
}
