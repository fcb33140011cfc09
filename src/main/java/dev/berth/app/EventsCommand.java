package dev.berth.app;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code berth events}: what the services of a cluster went through, newest first. */
@Command(name = "events", mixinStandardHelpOptions = true, description = "Service events, newest first.")
final class EventsCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options = new ClusterOptions();

    @Option(names = "--service", paramLabel = "NAME", description = "Only this service's events.")
    String service;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50")
    int limit;

    @Override
    public Integer call() {
        return ControlPlaneCli.run(options, calls -> {
            JsonObject answer = calls.call("ListServiceEvents", new JsonObject().put("service", service).put("maxResults", limit));
            calls.print(answer, () -> {
                TableWriter t = new TableWriter("TIME", "SERVICE", "MESSAGE");
                answer.getJsonArray("events").forEach(o -> {
                    JsonObject e = (JsonObject) o;
                    t.row(e.getString("createdAt"), e.getString("serviceName"), e.getString("message"));
                });
                t.print(System.out);
            });
        });
    }
}
