package dev.berth.storage;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A store of byte objects at keys. Keys are relative, {@code /}-separated paths whose segments use
 * {@code [A-Za-z0-9._-]} and are never {@code .} or {@code ..}; the empty key names the root
 * (accepted by {@link #list} and {@link #walk} only). Directories are implicit: a key is a directory
 * when some object lives below it.
 *
 * <p>Every method blocks and is safe to call from several threads at once. An object read by a
 * reader is either the old or the new content, never a mix: writes become visible atomically.
 */
public interface StorageDriver extends AutoCloseable {

    /** Short name used in logs and errors, e.g. {@code filesystem}. */
    String name();

    /** The whole content at {@code key}. {@link PathNotFoundException} when absent or a directory. */
    byte[] getContent(String key) throws IOException;

    /** Atomically replaces the content at {@code key} with {@code content}, creating parents. */
    void putContent(String key, byte[] content) throws IOException;

    /**
     * A stream of the content at {@code key} starting at byte {@code offset}. An offset at or past
     * the end gives an empty stream. {@link PathNotFoundException} when absent.
     */
    InputStream reader(String key, long offset) throws IOException;

    /**
     * A writer for {@code key}. With {@code append} it continues content left by an earlier writer
     * that was closed uncommitted (starting empty when there is none); without it any such content
     * is discarded first. Writers are for keys that hold no committed content the caller still
     * needs: a driver may write in place (the registry writes uploads to their own keys, then moves).
     */
    StorageWriter writer(String key, boolean append) throws IOException;

    /** Size, modification time and kind of the entry at {@code key}; {@link PathNotFoundException} when absent. */
    FileInfo stat(String key) throws IOException;

    /**
     * The keys directly below directory {@code key}, sorted lexically (by Java string order).
     * {@link PathNotFoundException} when the directory does not exist; an empty root gives an empty list.
     */
    List<String> list(String key) throws IOException;

    /**
     * Moves the object at {@code source} to {@code dest}, atomically replacing anything there.
     * {@link PathNotFoundException} when the source is absent.
     */
    void move(String source, String dest) throws IOException;

    /** Deletes the object or the whole directory tree at {@code key}; {@link PathNotFoundException} when absent. */
    void delete(String key) throws IOException;

    /**
     * A URL that serves the object directly to a client (e.g. a presigned S3 URL) for
     * {@code method} (GET or HEAD), or empty when the driver cannot or should not redirect.
     */
    Optional<URI> redirectUrl(String key, String method) throws IOException;

    /**
     * Visits every entry below {@code key} depth-first in lexical order, directories before their
     * contents. The visitor's {@link WalkAction} controls descent. {@link PathNotFoundException} when
     * {@code key} is absent (the empty root is never absent). Entries removed during the walk are
     * skipped. This default lists and stats; drivers with a cheaper way may override it.
     */
    default void walk(String key, Visitor visitor) throws IOException {
        if (!key.isEmpty() && !stat(key).isDirectory()) {
            throw new PathNotFoundException(key);
        }
        walkBelow(this, key, visitor);
    }

    /** Returns false when the visitor stopped the walk. */
    private static boolean walkBelow(StorageDriver driver, String key, Visitor visitor) throws IOException {
        List<String> children;
        try {
            children = driver.list(key);
        } catch (PathNotFoundException e) {
            return true; // removed while walking
        }
        for (String child : children) {
            FileInfo info;
            try {
                info = driver.stat(child);
            } catch (PathNotFoundException e) {
                continue;
            }
            WalkAction action = visitor.visit(info);
            if (action == WalkAction.STOP) {
                return false;
            }
            if (info.isDirectory() && action == WalkAction.CONTINUE && !walkBelow(driver, child, visitor)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The local file holding the committed object at {@code key}, for zero-copy serving, or empty
     * when the driver is not backed by local files. The file must only be read.
     */
    default Optional<Path> localFile(String key) {
        return Optional.empty();
    }

    /**
     * Removes what unfinished writers abandoned before {@code cutoff} where no upload session owns it
     * any more and no key shows it (S3: multipart uploads and tails a crash left); how many were
     * removed. Drivers whose uncommitted content lives at its key have nothing to do.
     */
    default int purgeAbandonedWrites(Instant cutoff) throws IOException {
        return 0;
    }

    /** Requests made to the backing store since the driver opened, by operation; empty when local. */
    default Map<String, Long> requestCounts() {
        return Map.of();
    }

    @Override
    default void close() throws IOException {
    }

    /** Receives entries during {@link #walk}. */
    @FunctionalInterface
    interface Visitor {
        WalkAction visit(FileInfo entry) throws IOException;
    }
}
