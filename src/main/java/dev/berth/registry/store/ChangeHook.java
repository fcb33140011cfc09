package dev.berth.registry.store;

/**
 * Called by the store while it holds the repository's lock, on a worker thread: after a push,
 * mount or link is written, before a delete is carried out. Whatever the hook records is therefore
 * ordered exactly like the changes themselves; a hook that throws fails the operation (for deletes,
 * before anything was removed). The registry uses it to record events.
 */
@FunctionalInterface
public interface ChangeHook<T> {
    void accept(T change) throws Exception;

    static <T> ChangeHook<T> none() {
        return change -> {
        };
    }
}
