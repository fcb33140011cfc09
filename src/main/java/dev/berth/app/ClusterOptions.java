package dev.berth.app;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What every control-plane command takes: the server, the output format and the cluster. */
final class ClusterOptions {
    @Mixin
    WebhookCommand.ClientOptions client = new WebhookCommand.ClientOptions();

    @Option(names = "--cluster", paramLabel = "NAME", defaultValue = "${env:BERTH_CLUSTER:-default}",
            description = "Cluster (default: ${DEFAULT-VALUE}, or $BERTH_CLUSTER).")
    String cluster;

    boolean json() {
        return client.json();
    }
}
