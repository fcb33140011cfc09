/**
 * The registry mirror (pull-through cache). This layer is the client side: {@link
 * dev.berth.mirror.UpstreamClient} talks to an upstream registry (anonymous, basic, or Docker token
 * auth with a token cache), follows blob redirects, and passes {@code Accept} through so the
 * upstream's media types and digests stay byte-exact. Routing, caching into the store and the
 * operator API come next.
 */
package dev.berth.mirror;
