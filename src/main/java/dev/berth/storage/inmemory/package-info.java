/** A driver that keeps objects in memory: for tests and for throwaway registries. */
package dev.berth.storage.inmemory;
