/**
 * The default driver: objects are files under one root directory. Writes become visible through
 * atomic renames; with {@code fsync} on, committed content and renamed entries are flushed to disk
 * before the call returns, and large writes are flushed in the background while they arrive so
 * that the final flush at commit is short.
 */
package dev.berth.storage.filesystem;
