/**
 * The S3 storage driver (AWS SDK for Java v2, Apache HTTP client): objects at
 * {@code <prefix><key>}, directories implied by {@code /}; writers are multipart uploads (invisible
 * until completed) whose unfinished tail, shorter than a part, is kept as an object under the
 * reserved {@code .berth/tails/} prefix so that an upload continues after a restart.
 */
package dev.berth.storage.s3;
