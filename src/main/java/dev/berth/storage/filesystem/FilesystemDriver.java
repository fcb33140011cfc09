package dev.berth.storage.filesystem;

import dev.berth.storage.FileInfo;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** Objects as files under {@code root}. See the package documentation for durability. */
public final class FilesystemDriver implements StorageDriver {
    /**
     * Prefix of temporary files. '#' is outside the key grammar, so no key can name or collide with
     * one; such entries are never listed or walked.
     */
    static final String TEMP_PREFIX = "#tmp-";
    /** Unflushed bytes after which a writer starts a background flush (fsync mode only). */
    static final long BACKGROUND_FLUSH_BYTES = 8L << 20;

    private final Path root;
    private final boolean fsync;
    private final ExecutorService flusher;

    /**
     * @param root  directory holding all objects; created when missing
     * @param fsync flush committed writes and renames to stable storage before returning
     */
    public FilesystemDriver(Path root, boolean fsync) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.fsync = fsync;
        Files.createDirectories(this.root);
        AtomicInteger n = new AtomicInteger();
        this.flusher = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-fs-flush-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Path root() {
        return root;
    }

    @Override
    public String name() {
        return "filesystem";
    }

    private Path resolve(String key) {
        return key.isEmpty() ? root : root.resolve(key);
    }

    /**
     * Maps "nothing there" failures to {@link PathNotFoundException}: a missing file, a directory
     * where an object was expected, or a path through an object ("Not a directory" comes as a plain
     * FileSystemException on Linux). Other errors are rethrown.
     */
    private static IOException notFoundOr(IOException e, Path path, String key) {
        if (e instanceof NoSuchFileException || e instanceof NotDirectoryException
                || !Files.exists(path) || Files.isDirectory(path)) {
            return new PathNotFoundException(key);
        }
        return e;
    }

    @Override
    public byte[] getContent(String key) throws IOException {
        Path path = resolve(key);
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw notFoundOr(e, path, key);
        }
    }

    @Override
    public void putContent(String key, byte[] content) throws IOException {
        Path target = resolve(key);
        Path dir = target.getParent();
        createDirectories(dir);
        Path temp = dir.resolve(TEMP_PREFIX + UUID.randomUUID());
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer src = ByteBuffer.wrap(content);
                while (src.hasRemaining()) {
                    ch.write(src);
                }
                if (fsync) {
                    ch.force(false);
                }
            }
            rename(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public InputStream reader(String key, long offset) throws IOException {
        Path path = resolve(key);
        if (Files.isDirectory(path)) {
            throw new PathNotFoundException(key);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw notFoundOr(e, path, key);
        }
        ch.position(offset);
        return Channels.newInputStream(ch);
    }

    @Override
    public StorageWriter writer(String key, boolean append) throws IOException {
        Path path = resolve(key);
        createDirectories(path.getParent());
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
        return new FileWriter(path, ch, ch.size());
    }

    @Override
    public FileInfo stat(String key) throws IOException {
        Path path = resolve(key);
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return new FileInfo(key, a.isDirectory() ? 0 : a.size(), a.lastModifiedTime().toInstant(), a.isDirectory());
        } catch (IOException e) {
            throw notFoundOr(e, path, key);
        }
    }

    @Override
    public List<String> list(String key) throws IOException {
        Path dir = resolve(key);
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!name.startsWith(TEMP_PREFIX)) {
                    names.add(key.isEmpty() ? name : key + "/" + name);
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            if (key.isEmpty()) {
                return List.of();
            }
            throw new PathNotFoundException(key);
        }
        names.sort(null);
        return names;
    }

    @Override
    public void move(String source, String dest) throws IOException {
        Path from = resolve(source);
        if (!Files.isRegularFile(from)) {
            throw new PathNotFoundException(source);
        }
        Path to = resolve(dest);
        createDirectories(to.getParent());
        try {
            rename(from, to);
        } catch (NoSuchFileException e) {
            throw new PathNotFoundException(source);
        }
    }

    /** Atomic replace of {@code to} by {@code from}; with fsync, the directory entry is made durable. */
    private void rename(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("storage root must be on one filesystem: " + e.getMessage(), e);
        }
        if (fsync) {
            syncDirectory(to.getParent());
        }
    }

    /**
     * Creates {@code dir} and its missing parents. They are not flushed one by one: on journaling
     * filesystems (ext4, XFS) the directory fsync that follows the rename into {@code dir} commits
     * the journal transaction that holds these creations too. (On a filesystem without such a
     * journal a power loss could lose a new directory; the storage root should not be on one.)
     */
    private static void createDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public void delete(String key) throws IOException {
        Path path = resolve(key);
        if (!Files.exists(path)) {
            throw new PathNotFoundException(key);
        }
        deleteTree(path);
    }

    private static void deleteTree(Path path) throws IOException {
        if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            deleteChildren(path);
        }
        try {
            Files.deleteIfExists(path);
        } catch (DirectoryNotEmptyException e) {
            // Something was written below the tree while it was being deleted (the registry serialises
            // its own writes per repository, so this is another process): take that away too, once.
            deleteChildren(path);
            Files.deleteIfExists(path);
        }
    }

    private static void deleteChildren(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path child : entries) {
                deleteTree(child);
            }
        } catch (NoSuchFileException e) {
            // gone already
        }
    }

    @Override
    public Optional<URI> redirectUrl(String key, String method) {
        return Optional.empty();
    }

    @Override
    public Optional<Path> localFile(String key) {
        return Optional.of(resolve(key));
    }

    @Override
    public void close() {
        flusher.shutdown();
    }

    /** Writes straight into the file at the key; in fsync mode flushes in the background as it goes. */
    private final class FileWriter implements StorageWriter {
        private final Path path;
        private final FileChannel channel;
        private long size;
        private long unflushed;
        private Future<?> flushing;
        private boolean committed;
        private boolean closed;
        private boolean cancelled;

        FileWriter(Path path, FileChannel channel, long size) {
            this.path = path;
            this.channel = channel;
            this.size = size;
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            write(new ByteBuffer[] {src});
        }

        /** One gathering write for the whole batch (fewer system calls for many small buffers). */
        @Override
        public void write(ByteBuffer[] srcs) throws IOException {
            if (closed || committed || cancelled) {
                throw new IOException("writer for " + path + " is already " + state());
            }
            long n = 0;
            for (ByteBuffer src : srcs) {
                n += src.remaining();
            }
            for (long left = n; left > 0; ) {
                left -= channel.write(srcs);
            }
            size += n;
            unflushed += n;
            if (fsync && unflushed >= BACKGROUND_FLUSH_BYTES && (flushing == null || flushing.isDone())) {
                unflushed = 0;
                flushing = flusher.submit(() -> {
                    channel.force(false);
                    return null;
                });
            }
        }

        private String state() {
            return committed ? "committed" : cancelled ? "cancelled" : "closed";
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void commit() throws IOException {
            if (closed || committed || cancelled) {
                throw new IOException("writer for " + path + " is already " + state());
            }
            awaitFlush();
            if (fsync) {
                channel.force(false);
            }
            committed = true;
        }

        private void awaitFlush() throws IOException {
            if (flushing == null) {
                return;
            }
            try {
                flushing.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while flushing " + path, e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } finally {
                flushing = null;
            }
        }

        @Override
        public void cancel() throws IOException {
            if (cancelled) {
                return;
            }
            cancelled = true;
            close();
            Files.deleteIfExists(path);
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                awaitFlush();
            } catch (IOException ignored) {
                // A failed background flush only matters to commit(), which reports it.
            } finally {
                channel.close();
            }
        }
    }
}
