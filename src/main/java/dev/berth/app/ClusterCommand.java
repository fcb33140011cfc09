package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code berth cluster create|ls|describe|rm}. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Create, list, describe and delete clusters.",
        subcommands = {ClusterCommand.Create.class, ClusterCommand.Ls.class, ClusterCommand.Describe.class,
                ClusterCommand.Rm.class, ClusterCommand.JoinToken.class})
final class ClusterCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    static void table(JsonArray clusters) {
        TableWriter t = new TableWriter("NAME", "STATUS", "NODES", "RUNNING", "PENDING", "CREATED");
        for (Object o : clusters) {
            JsonObject c = (JsonObject) o;
            t.row(c.getString("clusterName"), c.getString("status"), c.getInteger("registeredContainerInstancesCount"),
                    c.getInteger("runningTasksCount"), c.getInteger("pendingTasksCount"), c.getString("createdAt"));
        }
        t.print(System.out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a cluster (no-op when it exists).")
    static final class Create implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject answer = client.action("CreateCluster", new JsonObject().put("clusterName", name));
                if (options.json()) {
                    System.out.println(answer.encodePrettily());
                } else {
                    table(new JsonArray().add(answer.getJsonObject("cluster")));
                }
            });
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List clusters.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonArray names = ControlPlaneCli.listAll(b -> client.action("ListClusters", b), new JsonObject(),
                        "clusterArns");
                JsonArray described = ControlPlaneCli.describeAll(b -> client.action("DescribeClusters", b), "clusters",
                        names.getList(), "clusters");
                if (options.json()) {
                    System.out.println(new JsonObject().put("clusters", described).encodePrettily());
                } else {
                    table(described);
                }
            });
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Describe a cluster.")
    static final class Describe implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "NAME", defaultValue = "default")
        String name;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject answer = client.action("DescribeClusters", new JsonObject().put("clusters", new JsonArray().add(name)));
                if (answer.getJsonArray("clusters").isEmpty()) {
                    throw new ApiClient.ApiError("no cluster " + name);
                }
                if (options.json()) {
                    System.out.println(answer.getJsonArray("clusters").getJsonObject(0).encodePrettily());
                } else {
                    table(answer.getJsonArray("clusters"));
                }
            });
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete an empty cluster.")
    static final class Rm implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject answer = client.action("DeleteCluster", new JsonObject().put("cluster", name));
                System.out.println(options.json() ? answer.encodePrettily() : "cluster " + name + " deleted");
            });
        }
    }

    @Command(name = "join-token", mixinStandardHelpOptions = true,
            description = "Make a token that agents present (berth agent --join-token) to join the cluster.")
    static final class JoinToken implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "NAME", defaultValue = "default")
        String name;

        @picocli.CommandLine.Option(names = "--expires", paramLabel = "SECONDS", defaultValue = "86400",
                description = "Valid for this long (default: ${DEFAULT-VALUE}).")
        int expires;

        @picocli.CommandLine.Option(names = "--uses", paramLabel = "N", defaultValue = "1",
                description = "How many nodes may join with it (default: ${DEFAULT-VALUE}, single-use).")
        int uses;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject answer = client.action("CreateJoinToken", new JsonObject().put("cluster", name)
                        .put("expiresInSeconds", expires).put("uses", uses));
                System.out.println(options.json() ? answer.encodePrettily() : answer.getString("joinToken"));
            });
        }
    }
}
