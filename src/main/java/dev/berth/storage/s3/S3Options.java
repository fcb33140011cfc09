package dev.berth.storage.s3;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach the bucket and how to use it.
 *
 * @param bucket         the bucket (must exist)
 * @param region         the signing region
 * @param endpoint       an S3-compatible store's URL, or null for AWS
 * @param pathStyle      {@code http://host/bucket/key} instead of {@code http://bucket.host/key}
 * @param prefix         key prefix inside the bucket ("" for none)
 * @param accessKey      static credentials, or empty for the AWS default provider chain
 * @param secretKey      goes with {@code accessKey}
 * @param partSize       bytes per multipart part: what one upload holds in memory
 * @param maxConcurrency most connections open to the store at once
 * @param redirect       answer blob GETs with a 307 to a presigned URL instead of proxying the bytes
 * @param presignTtl     how long a presigned URL stays valid
 */
public record S3Options(String bucket, String region, URI endpoint, boolean pathStyle, String prefix, String accessKey,
                        String secretKey, int partSize, int maxConcurrency, boolean redirect, Duration presignTtl) {
}
