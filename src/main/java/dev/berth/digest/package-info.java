/**
 * Content digests: the {@link dev.berth.digest.Digest} value type (validated in its factory, so an
 * instance is always safe to use in a storage key) and the supported algorithms. Owns nothing
 * else; it must not depend on storage or HTTP.
 */
package dev.berth.digest;
