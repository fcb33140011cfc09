/**
 * The registry's HTTP face: the route table ({@link dev.berth.registry.api.RegistryRoutes}), one
 * handler class per resource (base, blobs, uploads, manifests, tags, catalog, referrers), the error
 * codes with their HTTP statuses, and the one failure handler that writes {@code {"errors":[…]}}.
 *
 * <p>Handlers parse and validate the request, call {@link dev.berth.registry.store} futures and
 * translate outcomes into the spec's statuses and headers. They never touch storage directly and
 * never block: blob bodies stream through pipes, blob bytes leave with {@code sendFile}.
 */
package dev.berth.registry.api;
