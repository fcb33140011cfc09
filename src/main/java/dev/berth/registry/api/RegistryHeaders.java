package dev.berth.registry.api;

/** Header names of the registry protocol. */
final class RegistryHeaders {
    static final String API_VERSION = "Docker-Distribution-API-Version";
    static final String API_VERSION_VALUE = "registry/2.0";
    static final String CONTENT_DIGEST = "Docker-Content-Digest";
    static final String UPLOAD_UUID = "Docker-Upload-UUID";
    static final String UPLOAD_SESSION_ID = "Blob-Upload-Session-ID";
    static final String RANGE = "Range";
    static final String OCI_SUBJECT = "OCI-Subject";
    static final String OCI_TAG = "OCI-Tag";
    static final String OCI_FILTERS_APPLIED = "OCI-Filters-Applied";
    static final String LINK = "Link";

    private RegistryHeaders() {
    }
}
