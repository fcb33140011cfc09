package dev.berth.deploy.model;

/** {@code mountPoints[]}: a task volume mounted into a container at {@code containerPath}. */
public record MountPoint(String sourceVolume, String containerPath, Boolean readOnly) {
    MountPoint normalize(String field) {
        Check.required(field + ".sourceVolume", sourceVolume);
        String path = Check.required(field + ".containerPath", containerPath);
        if (!path.startsWith("/") || path.contains("\0") || path.length() > 4096) {
            throw new FieldException(field + ".containerPath", field + ".containerPath must be an absolute path");
        }
        return new MountPoint(sourceVolume, path, readOnly != null && readOnly);
    }
}
