package dev.berth.storage.s3;

import dev.berth.storage.FileInfo;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageUnavailableException;
import dev.berth.storage.StorageWriter;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * {@link StorageDriver} over S3 or any S3-compatible store. Keys live below {@code prefix} in
 * {@code bucket}. Every call is a blocking SDK call (the registry runs drivers on worker threads).
 */
public final class S3Driver implements StorageDriver {
    /** The smallest part S3 accepts (but for the last). */
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;
    /** Below the prefix, reserved for the driver's own objects (upload tails); never listed. */
    static final String RESERVED = ".berth";
    private static final Duration DEFAULT_PRESIGN_TTL = Duration.ofMinutes(20);
    /** The largest object one CopyObject call may copy; larger ones are copied part by part. */
    static final long SINGLE_COPY_LIMIT = 5L * 1024 * 1024 * 1024;
    private static final long COPY_PART_SIZE = 512L * 1024 * 1024;

    private final S3Client s3;
    private final S3Presigner presigner;
    private final String bucket;
    private final String prefix;
    private final int partSize;
    private final Duration presignTtl;
    private final RequestCounter counter;

    /**
     * @param presigner signs redirect URLs, or null to never redirect
     * @param prefix key prefix inside the bucket ("" or ending with {@code /})
     * @param partSize bytes per multipart part, at least {@link #MIN_PART_SIZE}
     */
    public S3Driver(S3Client s3, S3Presigner presigner, String bucket, String prefix, int partSize) {
        this(s3, presigner, bucket, prefix, partSize, DEFAULT_PRESIGN_TTL, null);
    }

    private S3Driver(S3Client s3, S3Presigner presigner, String bucket, String prefix, int partSize, Duration presignTtl,
                     RequestCounter counter) {
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be at least 5 MiB");
        }
        this.s3 = s3;
        this.presigner = presigner;
        this.bucket = bucket;
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        this.partSize = partSize;
        this.presignTtl = presignTtl;
        this.counter = counter;
    }

    /**
     * A driver with its own client: static credentials or the AWS default chain, a connection pool of
     * {@code maxConcurrency}, the SDK's standard retries (throttling, 5xx, timeouts and connection
     * errors, with backoff), and a counter of the requests it makes.
     */
    public static S3Driver create(S3Options o) throws IOException {
        AwsCredentialsProvider credentials = o.accessKey().isEmpty()
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(o.accessKey(), o.secretKey()));
        S3Configuration service = S3Configuration.builder().pathStyleAccessEnabled(o.pathStyle()).build();
        RequestCounter counter = new RequestCounter();
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(o.region()))
                .credentialsProvider(credentials)
                .serviceConfiguration(service)
                .httpClient(ApacheHttpClient.builder()
                        .maxConnections(o.maxConcurrency())
                        .connectionTimeout(Duration.ofSeconds(5))
                        .connectionAcquisitionTimeout(Duration.ofSeconds(60))
                        .socketTimeout(Duration.ofSeconds(30))
                        .build())
                .overrideConfiguration(c -> c.addExecutionInterceptor(counter)
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy()));
        S3Presigner.Builder presigner = S3Presigner.builder()
                .region(Region.of(o.region()))
                .credentialsProvider(credentials)
                .serviceConfiguration(service);
        if (o.endpoint() != null) {
            // S3-compatible stores do not all know the SDK's newer default checksums.
            builder.endpointOverride(o.endpoint())
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
            presigner.endpointOverride(o.endpoint());
        }
        S3Client client = builder.build();
        try {
            // Fail at start-up on a wrong bucket, endpoint or credentials, not on the first pull.
            client.headBucket(r -> r.bucket(o.bucket()));
        } catch (SdkException e) {
            client.close();
            throw io("bucket " + o.bucket() + " is not reachable", e);
        }
        return new S3Driver(client, o.redirect() ? presigner.build() : null, o.bucket(), o.prefix(),
                o.partSize(), o.presignTtl(), counter);
    }

    @Override
    public Map<String, Long> requestCounts() {
        return counter == null ? Map.of() : counter.snapshot();
    }

    @Override
    public String name() {
        return "s3";
    }

    String full(String key) {
        return prefix + key;
    }

    String tailKey(String key) {
        return prefix + RESERVED + "/tails/" + key;
    }

    S3Client client() {
        return s3;
    }

    String bucket() {
        return bucket;
    }

    int partSize() {
        return partSize;
    }

    /**
     * The exception a failed SDK call becomes: {@link StorageUnavailableException} when the store did
     * not answer or was overloaded or failing (after the SDK's retries), else a plain I/O error.
     */
    static IOException io(String what, SdkException e) {
        String message = "s3: " + what + ": " + e.getMessage();
        boolean unavailable = e instanceof S3Exception s ? s.statusCode() >= 500 || s.statusCode() == 429
                : e instanceof SdkClientException || e.retryable();
        return unavailable ? new StorageUnavailableException(message, e) : new IOException(message, e);
    }

    /** A missing key (a missing bucket is a configuration error, never "not found"). */
    static boolean notFound(SdkException e) {
        if (e instanceof NoSuchKeyException) {
            return true;
        }
        if (e instanceof S3Exception s && s.statusCode() == 404) {
            String code = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode();
            return !"NoSuchBucket".equals(code);
        }
        return false;
    }

    @Override
    public byte[] getContent(String key) throws IOException {
        try {
            ResponseBytes<GetObjectResponse> b = s3.getObjectAsBytes(r -> r.bucket(bucket).key(full(key)));
            return b.asByteArray();
        } catch (SdkException e) {
            if (notFound(e)) {
                throw new PathNotFoundException(key);
            }
            throw io("get " + key, e);
        }
    }

    @Override
    public void putContent(String key, byte[] content) throws IOException {
        try {
            s3.putObject(r -> r.bucket(bucket).key(full(key)), RequestBody.fromBytes(content));
        } catch (SdkException e) {
            throw io("put " + key, e);
        }
    }

    @Override
    public InputStream reader(String key, long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        try {
            ResponseInputStream<GetObjectResponse> in = offset > 0
                    ? s3.getObject(r -> r.bucket(bucket).key(full(key)).range("bytes=" + offset + "-"))
                    : s3.getObject(r -> r.bucket(bucket).key(full(key)));
            return new ObjectStream(in, key);
        } catch (SdkException e) {
            if (notFound(e)) {
                throw new PathNotFoundException(key);
            }
            if (e instanceof S3Exception s && s.statusCode() == 416) {
                return new ByteArrayInputStream(new byte[0]); // at or past the end
            }
            throw io("read " + key, e);
        }
    }

    /**
     * An object's bytes as they arrive. Closed before its end (a range, a client that went away), the
     * connection is dropped rather than drained: draining would download the rest of the object.
     * A read that fails mid-way (timeout, reset) is the store being unavailable.
     */
    private static final class ObjectStream extends FilterInputStream {
        private final ResponseInputStream<GetObjectResponse> response;
        private final String key;
        private final long length;
        private long read;

        ObjectStream(ResponseInputStream<GetObjectResponse> response, String key) {
            super(response);
            this.response = response;
            this.key = key;
            Long contentLength = response.response().contentLength();
            this.length = contentLength == null ? -1 : contentLength;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                if (n > 0) {
                    read += n;
                }
                return n;
            } catch (IOException e) {
                throw new StorageUnavailableException("s3: reading " + key + " failed after " + read + " bytes: "
                        + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws IOException {
            if (length < 0 || read < length) {
                response.abort();
            }
            super.close();
        }
    }

    private HeadObjectResponse head(String key) throws IOException {
        try {
            return s3.headObject(r -> r.bucket(bucket).key(full(key)));
        } catch (SdkException e) {
            if (notFound(e)) {
                throw new PathNotFoundException(key);
            }
            throw io("stat " + key, e);
        }
    }

    @Override
    public StorageWriter writer(String key, boolean append) throws IOException {
        return S3Writer.open(this, key, append);
    }

    @Override
    public FileInfo stat(String key) throws IOException {
        if (!key.isEmpty()) {
            try {
                HeadObjectResponse h = s3.headObject(r -> r.bucket(bucket).key(full(key)));
                return new FileInfo(key, h.contentLength(), h.lastModified(), false);
            } catch (SdkException e) {
                if (!notFound(e)) {
                    throw io("stat " + key, e);
                }
            }
        }
        String dir = key.isEmpty() ? prefix : full(key) + "/";
        try {
            ListObjectsV2Response page = s3.listObjectsV2(r -> r.bucket(bucket).prefix(dir).maxKeys(2));
            for (S3Object o : page.contents()) {
                if (!isReserved(o.key())) {
                    return new FileInfo(key, 0, o.lastModified(), true);
                }
            }
            if (key.isEmpty()) {
                return new FileInfo(key, 0, Instant.EPOCH, true);
            }
        } catch (SdkException e) {
            throw io("stat " + key, e);
        }
        throw new PathNotFoundException(key);
    }

    private boolean isReserved(String fullKey) {
        return fullKey.startsWith(prefix + RESERVED + "/");
    }

    @Override
    public List<String> list(String key) throws IOException {
        String dir = key.isEmpty() ? prefix : full(key) + "/";
        TreeSet<String> children = new TreeSet<>();
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(dir).delimiter("/"))) {
                for (S3Object o : page.contents()) {
                    children.add(relative(o.key()));
                }
                for (CommonPrefix p : page.commonPrefixes()) {
                    String rel = relative(p.prefix());
                    children.add(rel.substring(0, rel.length() - 1));
                }
            }
        } catch (SdkException e) {
            throw io("list " + key, e);
        }
        children.remove(RESERVED);
        if (children.isEmpty() && !key.isEmpty()) {
            throw new PathNotFoundException(key);
        }
        return new ArrayList<>(children);
    }

    private String relative(String fullKey) {
        return fullKey.substring(prefix.length());
    }

    @Override
    public void move(String source, String dest) throws IOException {
        long size = head(source).contentLength();
        try {
            if (size <= SINGLE_COPY_LIMIT) {
                s3.copyObject(r -> r.sourceBucket(bucket).sourceKey(full(source)).destinationBucket(bucket)
                        .destinationKey(full(dest)));
            } else {
                S3Writer.multipartCopy(this, full(source), full(dest), size, COPY_PART_SIZE);
            }
            s3.deleteObject(r -> r.bucket(bucket).key(full(source)));
        } catch (SdkException e) {
            if (notFound(e)) {
                throw new PathNotFoundException(source);
            }
            throw io("move " + source + " to " + dest, e);
        }
    }

    @Override
    public void delete(String key) throws IOException {
        try {
            try {
                s3.headObject(r -> r.bucket(bucket).key(full(key)));
                s3.deleteObject(r -> r.bucket(bucket).key(full(key)));
                return;
            } catch (SdkException e) {
                if (!notFound(e)) {
                    throw e;
                }
            }
            boolean any = deleteBelow(full(key) + "/");
            // Unfinished writers below the directory go with it: their multipart uploads and tails.
            for (MultipartUpload u : uploadsBelow(full(key) + "/")) {
                abort(u);
            }
            deleteBelow(tailKey(key) + "/");
            if (!any) {
                throw new PathNotFoundException(key);
            }
        } catch (SdkException e) {
            throw io("delete " + key, e);
        }
    }

    /** Deletes every object whose key starts with {@code fullPrefix}; false when there was none. */
    private boolean deleteBelow(String fullPrefix) {
        boolean any = false;
        for (ListObjectsV2Response page : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(fullPrefix))) {
            List<ObjectIdentifier> ids = page.contents().stream()
                    .map(o -> ObjectIdentifier.builder().key(o.key()).build()).toList();
            if (!ids.isEmpty()) {
                any = true;
                deleteAll(ids);
            }
        }
        return any;
    }

    /** Open multipart uploads whose key starts with {@code fullPrefix}. */
    List<MultipartUpload> uploadsBelow(String fullPrefix) {
        List<MultipartUpload> all = new ArrayList<>();
        s3.listMultipartUploadsPaginator(r -> r.bucket(bucket).prefix(fullPrefix)).uploads().forEach(all::add);
        return all;
    }

    /** Open multipart uploads of exactly {@code key}. */
    List<MultipartUpload> uploadsOf(String key) {
        String fullKey = full(key);
        return uploadsBelow(fullKey).stream().filter(u -> u.key().equals(fullKey)).toList();
    }

    void abort(MultipartUpload u) {
        try {
            s3.abortMultipartUpload(r -> r.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
        } catch (SdkException e) {
            if (!notFound(e)) {
                throw e;
            }
        }
    }

    /**
     * Aborts multipart uploads started before {@code cutoff} and deletes upload tails last written
     * before it, unless they belong to an upload session that still exists (one with a
     * {@code startedat} next to its {@code data}): crashes and lost sessions leave those behind, and
     * S3 bills for them until they go.
     */
    @Override
    public int purgeAbandonedWrites(Instant cutoff) throws IOException {
        int removed = 0;
        try {
            for (MultipartUpload u : uploadsBelow(prefix)) {
                if (u.initiated().isBefore(cutoff) && !isReserved(u.key()) && !sessionExists(u.key().substring(prefix.length()))) {
                    abort(u);
                    removed++;
                }
            }
            String tails = prefix + RESERVED + "/tails/";
            for (S3Object o : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(tails)).contents()) {
                if (o.lastModified().isBefore(cutoff) && !sessionExists(o.key().substring(tails.length()))) {
                    s3.deleteObject(r -> r.bucket(bucket).key(o.key()));
                    removed++;
                }
            }
        } catch (SdkException e) {
            throw io("purge abandoned writes", e);
        }
        return removed;
    }

    /** Whether {@code key} is the data of a live upload session: a {@code startedat} object beside it. */
    private boolean sessionExists(String key) {
        if (!key.endsWith("/data")) {
            return false;
        }
        String startedAt = full(key.substring(0, key.length() - "data".length()) + "startedat");
        try {
            s3.headObject(r -> r.bucket(bucket).key(startedAt));
            return true;
        } catch (SdkException e) {
            if (notFound(e)) {
                return false;
            }
            throw e;
        }
    }

    /** Stores that do not implement multi-object delete (some S3-compatible ones) get one delete per object. */
    private volatile boolean singleDeletes;

    private void deleteAll(List<ObjectIdentifier> ids) {
        if (!singleDeletes) {
            try {
                DeleteObjectsResponse r = s3.deleteObjects(b -> b.bucket(bucket)
                        .delete(Delete.builder().objects(ids).quiet(true).build()));
                if (r.hasErrors() && !r.errors().isEmpty()) {
                    S3Error first = r.errors().get(0);
                    throw S3Exception.builder().statusCode(503).message("s3: " + r.errors().size()
                            + " objects not deleted, e.g. " + first.key() + ": " + first.code() + " " + first.message())
                            .build();
                }
                return;
            } catch (S3Exception e) {
                if (e.statusCode() != 501 && e.statusCode() != 400) {
                    throw e;
                }
                singleDeletes = true;
            }
        }
        for (ObjectIdentifier id : ids) {
            s3.deleteObject(r -> r.bucket(bucket).key(id.key()));
        }
    }

    @Override
    public Optional<URI> redirectUrl(String key, String method) throws IOException {
        if (presigner == null) {
            return Optional.empty();
        }
        try {
            if ("HEAD".equals(method)) {
                return Optional.of(presigner.presignHeadObject(r -> r.signatureDuration(presignTtl)
                        .headObjectRequest(h -> h.bucket(bucket).key(full(key)))).url().toURI());
            }
            return Optional.of(presigner.presignGetObject(r -> r.signatureDuration(presignTtl)
                    .getObjectRequest(g -> g.bucket(bucket).key(full(key)))).url().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException("s3: bad presigned URL", e);
        } catch (SdkException e) {
            throw io("presign " + key, e);
        }
    }

    @Override
    public void close() {
        s3.close();
        if (presigner != null) {
            presigner.close();
        }
    }

}
