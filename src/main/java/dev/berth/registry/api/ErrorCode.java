package dev.berth.registry.api;

/**
 * Registry error codes, each with its HTTP status and default message: those of the OCI
 * distribution spec, plus the Docker Registry v2 codes clients also understand.
 */
public enum ErrorCode {
    BLOB_UNKNOWN("BLOB_UNKNOWN", 404, "blob unknown to registry"),
    BLOB_UPLOAD_INVALID("BLOB_UPLOAD_INVALID", 400, "blob upload invalid"),
    BLOB_UPLOAD_UNKNOWN("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry"),
    /** A chunk that does not start where the upload ends, or a malformed Content-Range. */
    BLOB_UPLOAD_RANGE_INVALID("BLOB_UPLOAD_INVALID", 416, "upload range not satisfiable"),
    DIGEST_INVALID("DIGEST_INVALID", 400, "provided digest did not match uploaded content"),
    MANIFEST_BLOB_UNKNOWN("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"),
    MANIFEST_INVALID("MANIFEST_INVALID", 400, "manifest invalid"),
    MANIFEST_UNKNOWN("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
    MANIFEST_TOO_LARGE("SIZE_INVALID", 413, "manifest exceeds the size limit"),
    NAME_INVALID("NAME_INVALID", 400, "invalid repository name"),
    NAME_UNKNOWN("NAME_UNKNOWN", 404, "repository name not known to registry"),
    TAG_INVALID("TAG_INVALID", 400, "invalid tag"),
    TOO_MANY_TAGS("TAG_INVALID", 414, "too many tag parameters"),
    PAGINATION_NUMBER_INVALID("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"),
    RANGE_NOT_SATISFIABLE("RANGE_INVALID", 416, "requested range not satisfiable"),
    SIZE_INVALID("SIZE_INVALID", 400, "provided length did not match content length"),
    UNAUTHORIZED("UNAUTHORIZED", 401, "authentication required"),
    DENIED("DENIED", 403, "requested access to the resource is denied"),
    UNSUPPORTED("UNSUPPORTED", 405, "the operation is unsupported"),
    NOT_FOUND("NOT_FOUND", 404, "no such endpoint"),
    TOO_MANY_REQUESTS("TOOMANYREQUESTS", 429, "too many requests"),
    UNAVAILABLE("UNAVAILABLE", 503, "service unavailable"),
    UNKNOWN("UNKNOWN", 500, "unknown error");

    private final String code;
    private final int status;
    private final String message;

    ErrorCode(String code, int status, String message) {
        this.code = code;
        this.status = status;
        this.message = message;
    }

    /** The code as written on the wire. */
    public String code() {
        return code;
    }

    public int status() {
        return status;
    }

    public String message() {
        return message;
    }
}
