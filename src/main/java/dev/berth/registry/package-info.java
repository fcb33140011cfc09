/**
 * Value types of the registry's vocabulary shared by the HTTP layer and the store: repository
 * names, tags and manifest references. Each validates its grammar in its factory, so an instance
 * is always safe to use in a storage key (no path traversal is expressible).
 */
package dev.berth.registry;
