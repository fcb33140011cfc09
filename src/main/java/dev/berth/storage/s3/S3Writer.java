package dev.berth.storage.s3;

import dev.berth.storage.StorageWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * A writer as an S3 multipart upload. One part's buffer is the only content in memory; each part is
 * uploaded as it fills. Closing without commit keeps the uploaded parts in the open multipart upload and the
 * rest (shorter than a part) as a tail object, so that {@code writer(key, true)} continues exactly
 * where this one stopped, even in another process. Commit completes the upload (or, when everything
 * fits in one part, writes the object directly); nothing is visible at the key before.
 */
final class S3Writer implements StorageWriter {
    /** User metadata of a tail object: the number of the part its bytes start. */
    private static final String NEXT_PART = "next-part";
    /** The most parts one S3 multipart upload may have. */
    private static final int MAX_PARTS = 10_000;
    private final S3Driver driver;
    private final String key;
    private String uploadId;
    private final List<CompletedPart> parts = new ArrayList<>();
    private long uploaded;
    /** The part being filled: the only upload bytes in memory, allocated on the first write. */
    private byte[] part;
    private int filled;
    private boolean committed;
    /** Whether bytes were written since open: only then does close change the tail. */
    private boolean dirty;
    private boolean closed;
    private boolean cancelled;

    private S3Writer(S3Driver driver, String key) {
        this.driver = driver;
        this.key = key;
    }

    static S3Writer open(S3Driver driver, String key, boolean append) throws IOException {
        S3Writer w = new S3Writer(driver, key);
        try {
            List<MultipartUpload> uploads = driver.uploadsOf(key);
            if (!append) {
                w.discard(uploads);
                return w;
            }
            // The newest open upload of the key is the one to continue.
            String upload = uploads.stream().max(Comparator.comparing(MultipartUpload::initiated))
                    .map(MultipartUpload::uploadId).orElse(null);
            if (upload != null) {
                w.uploadId = upload;
                for (Part p : driver.client().listPartsPaginator(r -> r.bucket(driver.bucket()).key(driver.full(key))
                        .uploadId(upload)).parts()) {
                    w.parts.add(CompletedPart.builder().partNumber(p.partNumber()).eTag(p.eTag()).build());
                    w.uploaded += p.size();
                }
                w.parts.sort(Comparator.comparingInt(CompletedPart::partNumber));
            }
            try {
                ResponseBytes<GetObjectResponse> tail = driver.client().getObjectAsBytes(r -> r.bucket(driver.bucket())
                        .key(driver.tailKey(key)));
                // A tail belongs before the part it names. One that names another part is stale: its
                // bytes went into a part already (a writer stopped between a part and its close), or
                // were never acknowledged; it is ignored and replaced or deleted by the next close.
                if (String.valueOf(w.parts.size() + 1).equals(tail.response().metadata().get(NEXT_PART))) {
                    byte[] bytes = tail.asByteArray();
                    // It becomes the start of the part being filled (a tail is shorter than a part,
                    // unless partSize was lowered since).
                    w.part = new byte[Math.max(driver.partSize(), bytes.length)];
                    System.arraycopy(bytes, 0, w.part, 0, bytes.length);
                    w.filled = bytes.length;
                }
            } catch (SdkException e) {
                if (!S3Driver.notFound(e)) {
                    throw e;
                }
            }
            return w;
        } catch (SdkException e) {
            throw S3Driver.io("open writer " + key, e);
        }
    }

    /** Aborts {@code uploads} (the open uploads of the key) and removes the tail. */
    private void discard(List<MultipartUpload> uploads) {
        uploads.forEach(driver::abort);
        driver.client().deleteObject(b -> b.bucket(driver.bucket()).key(driver.tailKey(key)));
    }

    private void checkOpen() throws IOException {
        if (committed || cancelled || closed) {
            throw new IOException("s3 writer for " + key + " is " + (committed ? "committed" : cancelled ? "cancelled" : "closed"));
        }
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        checkOpen();
        dirty |= src.hasRemaining();
        if (part == null) {
            part = new byte[driver.partSize()];
        }
        while (src.hasRemaining()) {
            int n = Math.min(part.length - filled, src.remaining());
            src.get(part, filled, n);
            filled += n;
            if (filled == part.length) {
                uploadPart();
            }
        }
    }

    /** Uploads the filled bytes of the part as the next part of the upload (started on the first). */
    private void uploadPart() throws IOException {
        int size = filled;
        if (parts.size() >= MAX_PARTS) {
            throw new IOException("s3: " + key + " would need more than " + MAX_PARTS + " parts of "
                    + driver.partSize() + " bytes; raise storage.s3.partSize");
        }
        try {
            if (uploadId == null) {
                uploadId = driver.client().createMultipartUpload(r -> r.bucket(driver.bucket()).key(driver.full(key))).uploadId();
            }
            int number = parts.size() + 1;
            String etag = driver.client().uploadPart(r -> r.bucket(driver.bucket()).key(driver.full(key)).uploadId(uploadId)
                    .partNumber(number), filledBody()).eTag();
            parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            uploaded += size;
        } catch (SdkException e) {
            throw S3Driver.io("upload part of " + key, e);
        }
        filled = 0;
    }

    /** The filled bytes as a request body, read from the part without copying it. */
    private RequestBody filledBody() {
        byte[] bytes = part == null ? new byte[0] : part;
        return RequestBody.fromInputStream(new ByteArrayInputStream(bytes, 0, filled), filled);
    }

    @Override
    public long size() {
        return uploaded + filled;
    }

    @Override
    public void commit() throws IOException {
        checkOpen();
        try {
            if (uploadId == null) {
                driver.client().putObject(r -> r.bucket(driver.bucket()).key(driver.full(key)), filledBody());
            } else {
                if (filled > 0 || parts.isEmpty()) {
                    uploadPart();
                }
                driver.client().completeMultipartUpload(r -> r.bucket(driver.bucket()).key(driver.full(key)).uploadId(uploadId)
                        .multipartUpload(m -> m.parts(parts)));
            }
            driver.client().deleteObject(r -> r.bucket(driver.bucket()).key(driver.tailKey(key)));
        } catch (SdkException e) {
            throw S3Driver.io("commit " + key, e);
        }
        committed = true;
        part = null;
    }

    @Override
    public void cancel() throws IOException {
        if (cancelled || committed) {
            cancelled = true;
            return;
        }
        try {
            discard(driver.uploadsOf(key));
        } catch (SdkException e) {
            throw S3Driver.io("cancel " + key, e);
        }
        cancelled = true;
        part = null;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (committed || cancelled) {
            return;
        }
        if (!dirty) {
            part = null;
            return; // nothing changed: whatever tail there is stays as it was
        }
        try {
            // What does not fill a part waits in the tail object for a continuation.
            if (filled == 0) {
                driver.client().deleteObject(r -> r.bucket(driver.bucket()).key(driver.tailKey(key)));
            } else {
                String next = String.valueOf(parts.size() + 1);
                driver.client().putObject(r -> r.bucket(driver.bucket()).key(driver.tailKey(key))
                        .metadata(Map.of(NEXT_PART, next)), filledBody());
            }
            part = null;
        } catch (SdkException e) {
            throw S3Driver.io("close " + key, e);
        }
    }

    /** Server-side copy of an object above the single-copy limit, in parts of {@code part} bytes. */
    static void multipartCopy(S3Driver driver, String source, String dest, long size, long part) {
        String upload = driver.client().createMultipartUpload(r -> r.bucket(driver.bucket()).key(dest)).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        int number = 1;
        for (long start = 0; start < size; start += part, number++) {
            long end = Math.min(size, start + part) - 1;
            int n = number;
            long s = start;
            String etag = driver.client().uploadPartCopy(r -> r.sourceBucket(driver.bucket()).sourceKey(source)
                    .destinationBucket(driver.bucket()).destinationKey(dest).uploadId(upload).partNumber(n)
                    .copySourceRange("bytes=" + s + "-" + end)).copyPartResult().eTag();
            parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
        }
        driver.client().completeMultipartUpload(r -> r.bucket(driver.bucket()).key(dest).uploadId(upload)
                .multipartUpload(m -> m.parts(parts)));
    }
}
