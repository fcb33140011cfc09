package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth task run|ls|describe|stop}. */
@Command(name = "task", mixinStandardHelpOptions = true, description = "Run, list, describe and stop tasks.",
        subcommands = {TaskCommand.Run.class, TaskCommand.Ls.class, TaskCommand.Describe.class, TaskCommand.Stop.class,
                TaskCommand.Logs.class})
final class TaskCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    static void table(JsonArray tasks) {
        TableWriter t = new TableWriter("TASK", "TASK DEFINITION", "LAST", "DESIRED", "HEALTH", "NODE", "GROUP", "PORTS",
                "REASON");
        for (Object o : tasks) {
            JsonObject x = (JsonObject) o;
            StringBuilder ports = new StringBuilder();
            for (Object c : x.getJsonArray("containers", new JsonArray())) {
                for (Object b : ((JsonObject) c).getJsonArray("networkBindings", new JsonArray())) {
                    JsonObject n = (JsonObject) b;
                    ports.append(ports.length() == 0 ? "" : ",").append(n.getInteger("hostPort")).append("->")
                            .append(n.getInteger("containerPort"));
                }
            }
            String reason = x.getString("pendingReason") != null ? x.getString("pendingReason") : x.getString("stoppedReason");
            t.row(x.getString("taskArn"), x.getString("taskDefinitionArn"), x.getString("lastStatus"),
                    x.getString("desiredStatus"), x.getString("healthStatus"), x.getString("containerInstanceArn"),
                    x.getString("group"), ports.toString(), reason);
        }
        t.print(System.out);
    }

    static JsonArray describe(ControlPlaneCli.Calls calls, List<?> ids) throws ApiClient.ApiError {
        return ControlPlaneCli.describeAll(b -> calls.call("DescribeTasks", b), "tasks", ids, "tasks");
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run one-off tasks, placed by the scheduler.")
    static final class Run implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "TASKDEF")
        String taskDefinition;

        @Option(names = "--count", paramLabel = "N", defaultValue = "1")
        int count;

        @Option(names = "--group", paramLabel = "GROUP")
        String group;

        @Option(names = "--started-by", paramLabel = "TEXT")
        String startedBy;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonObject answer = calls.call("RunTask", new JsonObject().put("taskDefinition", taskDefinition)
                        .put("count", count).put("group", group).put("startedBy", startedBy));
                calls.print(answer, () -> table(answer.getJsonArray("tasks")));
            });
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List tasks.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Option(names = "--service", paramLabel = "NAME")
        String service;

        @Option(names = "--node", paramLabel = "ID")
        String node;

        @Option(names = "--status", paramLabel = "STATUS", description = "Desired status: RUNNING, PENDING or STOPPED.")
        String status;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonArray ids = ControlPlaneCli.listAll(b -> calls.call("ListTasks", b), new JsonObject()
                        .put("serviceName", service).put("containerInstance", node).put("desiredStatus", status), "taskArns");
                JsonArray tasks = describe(calls, ids.getList());
                calls.print(new JsonObject().put("tasks", tasks), () -> table(tasks));
            });
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Describe tasks.")
    static final class Describe implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "TASK", arity = "1..*")
        List<String> ids;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonObject answer = calls.call("DescribeTasks", new JsonObject().put("tasks", ControlPlaneCli.strings(ids)));
                calls.print(answer, () -> table(answer.getJsonArray("tasks")));
                if (!answer.getJsonArray("failures").isEmpty()) {
                    throw new ApiClient.ApiError("not found: " + answer.getJsonArray("failures").encode());
                }
            });
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a task.")
    static final class Stop implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "TASK")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonObject answer = calls.call("StopTask", new JsonObject().put("task", id).put("reason", reason));
                calls.print(answer, () -> table(new JsonArray().add(answer.getJsonObject("task"))));
            });
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "A task container's output, read from its node's agent through the controller.")
    static final class Logs implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "TASK")
        String id;

        @Option(names = "--container", paramLabel = "NAME", description = "Which container (default: the first).")
        String container;

        @Option(names = {"-f", "--follow"}, description = "Keep printing until the container stops or Ctrl-C.")
        boolean follow;

        @Option(names = "--tail", paramLabel = "N", defaultValue = "-1", description = "Only the last N lines.")
        int tail;

        @Override
        public Integer call() {
            StringBuilder path = new StringBuilder("/api/tasks/").append(java.net.URLEncoder.encode(id,
                    java.nio.charset.StandardCharsets.UTF_8)).append("/logs?follow=").append(follow).append("&tail=")
                    .append(tail).append("&cluster=").append(java.net.URLEncoder.encode(options.cluster,
                            java.nio.charset.StandardCharsets.UTF_8));
            if (container != null) {
                path.append("&container=").append(java.net.URLEncoder.encode(container, java.nio.charset.StandardCharsets.UTF_8));
            }
            return WebhookCommand.call(options.client, client -> client.stream(path.toString(), System.out));
        }
    }
}
