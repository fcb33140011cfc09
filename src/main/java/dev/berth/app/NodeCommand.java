package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth node ls|drain|activate}. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "List nodes; drain them and bring them back.",
        subcommands = {NodeCommand.Ls.class, NodeCommand.Drain.class, NodeCommand.Activate.class})
final class NodeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    static void table(JsonArray nodes) {
        TableWriter t = new TableWriter("NODE", "HOSTNAME", "STATUS", "AGENT", "CPU FREE", "MEMORY FREE", "RUNNING", "PENDING",
                "ATTRIBUTES");
        for (Object o : nodes) {
            JsonObject n = (JsonObject) o;
            JsonObject total = n.getJsonObject("registeredResources");
            JsonObject free = n.getJsonObject("remainingResources");
            StringBuilder attributes = new StringBuilder();
            for (Object a : n.getJsonArray("attributes", new JsonArray())) {
                JsonObject x = (JsonObject) a;
                attributes.append(attributes.length() == 0 ? "" : ",").append(x.getString("name"))
                        .append(x.getString("value") == null ? "" : "=" + x.getString("value"));
            }
            t.row(n.getString("containerInstanceArn"), n.getString("hostname"), n.getString("status"),
                    n.getString("agentStatus", n.getBoolean("agentConnected") ? "CONNECTED" : "DISCONNECTED"),
                    free.getInteger("cpu") + "/" + total.getInteger("cpu"),
                    free.getInteger("memory") + "/" + total.getInteger("memory") + " MiB",
                    n.getInteger("runningTasksCount"), n.getInteger("pendingTasksCount"), attributes.toString());
        }
        t.print(System.out);
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List the cluster's nodes.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Option(names = "--status", paramLabel = "STATUS", description = "ACTIVE or DRAINING.")
        String status;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonArray ids = ControlPlaneCli.listAll(b -> calls.call("ListContainerInstances", b),
                        new JsonObject().put("status", status), "containerInstanceArns");
                JsonArray nodes = ControlPlaneCli.describeAll(b -> calls.call("DescribeContainerInstances", b),
                        "containerInstances", ids.getList(), "containerInstances");
                calls.print(new JsonObject().put("containerInstances", nodes), () -> table(nodes));
            });
        }
    }

    static int setStatus(ClusterOptions options, List<String> ids, String status) {
        return ControlPlaneCli.run(options, calls -> {
            JsonObject answer = calls.call("UpdateContainerInstancesState", new JsonObject()
                    .put("containerInstances", ControlPlaneCli.strings(ids)).put("status", status));
            calls.print(answer, () -> table(answer.getJsonArray("containerInstances")));
            if (!answer.getJsonArray("failures").isEmpty()) {
                throw new ApiClient.ApiError("not found: " + answer.getJsonArray("failures").encode());
            }
        });
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "DRAINING: no new tasks; service tasks move to other nodes within each service's min/max percent.")
    static final class Drain implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NODE", arity = "1..*")
        List<String> ids;

        @Override
        public Integer call() {
            return setStatus(options, ids, "DRAINING");
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true, description = "ACTIVE again: the node takes new tasks.")
    static final class Activate implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NODE", arity = "1..*")
        List<String> ids;

        @Override
        public Integer call() {
            return setStatus(options, ids, "ACTIVE");
        }
    }
}
