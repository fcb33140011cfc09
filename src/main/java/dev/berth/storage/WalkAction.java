package dev.berth.storage;

/** What {@link StorageDriver#walk} does after visiting an entry. */
public enum WalkAction {
    /** Go on, descending into the entry if it is a directory. */
    CONTINUE,
    /** Go on, but do not descend into this directory (same as CONTINUE for files). */
    SKIP_DIRECTORY,
    /** End the walk. */
    STOP
}
