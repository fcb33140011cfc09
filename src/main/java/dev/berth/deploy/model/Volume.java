package dev.berth.deploy.model;

/**
 * A task volume. With {@code host.sourcePath} it is a directory of the node (bind mount); without,
 * a scratch volume the runtime creates for the task and removes with it.
 */
public record Volume(String name, Host host) {
    /** {@code host}: the node directory. */
    public record Host(String sourcePath) {
    }

    Volume normalize(String field) {
        Check.name(field + ".name", name);
        if (host != null) {
            String p = host.sourcePath();
            if (p != null && (!p.startsWith("/") || p.contains("\0") || p.length() > 4096)) {
                throw new FieldException(field + ".host.sourcePath", field + ".host.sourcePath must be an absolute path");
            }
            if (p == null) {
                return new Volume(name, null);
            }
        }
        return this;
    }
}
