package dev.berth.app;

import dev.berth.deploy.ImageResolver;
import dev.berth.deploy.model.ImageReference;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import dev.berth.registry.store.RegistryStore;
import io.vertx.core.Future;
import java.util.Set;

/**
 * Resolves tags of images in Berth's own registry: those named with a registry host Berth answers
 * to (loopback names or this host with Berth's port, or a host listed in {@code deploy.registryHosts}).
 * Images of other registries are not resolved.
 */
final class RegistryImageResolver implements ImageResolver {
    private final RegistryStore store;
    private final int port;
    private final Set<String> hosts;
    /** Looked up once: a name lookup can block, and resolution runs on event loops. */
    private final String localName = localName();

    RegistryImageResolver(RegistryStore store, int port, Set<String> hosts) {
        this.store = store;
        this.port = port;
        this.hosts = hosts;
    }

    @Override
    public boolean isThisRegistry(String registry) {
        return ours(registry);
    }

    @Override
    public Future<String> resolve(ImageReference image) {
        if (!ours(image.registry())) {
            return Future.succeededFuture(null);
        }
        String tag = image.tag() == null ? "latest" : image.tag();
        return store.tags().resolve(RepositoryName.of(image.repository()), Tag.of(tag))
                .map(d -> d.map(Object::toString).orElse(null));
    }

    private boolean ours(String registry) {
        if (registry == null) {
            return false;
        }
        if (hosts.contains(registry)) {
            return true;
        }
        int colon = registry.lastIndexOf(':');
        if (colon < 0 || !registry.substring(colon + 1).equals(String.valueOf(port))) {
            return false;
        }
        String host = registry.substring(0, colon);
        return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equalsIgnoreCase(localName);
    }

    private static String localName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
