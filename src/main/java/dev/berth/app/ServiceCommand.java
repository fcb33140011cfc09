package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth service create|update|describe|ls|rm|deploy}. */
@Command(name = "service", mixinStandardHelpOptions = true,
        description = "Create, change, inspect, delete and deploy services.",
        subcommands = {ServiceCommand.Create.class, ServiceCommand.Update.class, ServiceCommand.Describe.class,
                ServiceCommand.Ls.class, ServiceCommand.Rm.class, ServiceCommand.Deploy.class})
final class ServiceCommand implements Callable<Integer> {
    /** Exit status of {@code deploy --wait} when the deployment failed. */
    static final int FAILED = 1;
    /** Exit status of {@code deploy --wait} when it did not finish in time. */
    static final int TIMED_OUT = 3;
    /** Exit status of {@code deploy --wait} when a newer deployment (another deploy, a push) took over. */
    static final int SUPERSEDED = 4;

    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    static JsonObject primary(JsonObject service) {
        for (Object o : service.getJsonArray("deployments", new JsonArray())) {
            JsonObject d = (JsonObject) o;
            if ("PRIMARY".equals(d.getString("status"))) {
                return d;
            }
        }
        return new JsonObject();
    }

    static void print(ControlPlaneCli.Calls calls, JsonObject service) {
        calls.print(service, () -> {
            new TableWriter("SERVICE", "STATUS", "TASK DEFINITION", "DESIRED", "RUNNING", "PENDING", "ROLLOUT")
                    .row(service.getString("serviceName"), service.getString("status"), service.getString("taskDefinition"),
                            service.getInteger("desiredCount"), service.getInteger("runningCount"),
                            service.getInteger("pendingCount"), primary(service).getString("rolloutState"))
                    .print(System.out);
            System.out.println();
            TableWriter d = new TableWriter("DEPLOYMENT", "STATUS", "ROLLOUT", "DESIRED", "RUNNING", "PENDING", "FAILED",
                    "IMAGES", "REASON");
            for (Object o : service.getJsonArray("deployments", new JsonArray())) {
                JsonObject x = (JsonObject) o;
                StringBuilder images = new StringBuilder();
                x.getJsonObject("images", new JsonObject()).forEach(e -> images.append(images.length() == 0 ? "" : " ")
                        .append(ControlPlaneCli.shortDigest(String.valueOf(e.getValue()))));
                d.row(x.getString("id"), x.getString("status"), x.getString("rolloutState"), x.getInteger("desiredCount"),
                        x.getInteger("runningCount"), x.getInteger("pendingCount"), x.getInteger("failedTasks"),
                        images.toString(), x.getString("rolloutStateReason"));
            }
            d.print(System.out);
        });
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a service. -f takes a CreateService request (ECS fields); flags override it.")
    static final class Create implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NAME", arity = "0..1")
        String name;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE")
        Path file;

        @Option(names = "--taskdef", paramLabel = "TASKDEF", description = "family or family:revision.")
        String taskDefinition;

        @Option(names = "--count", paramLabel = "N", description = "Desired count (default 1).")
        Integer count;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonObject request = ControlPlaneCli.file(file);
                if (name != null) {
                    request.put("serviceName", name);
                }
                if (taskDefinition != null) {
                    request.put("taskDefinition", taskDefinition);
                }
                if (count != null) {
                    request.put("desiredCount", count);
                }
                print(calls, calls.call("CreateService", request).getJsonObject("service"));
            });
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Change a service. -f takes an UpdateService request; flags override it.")
    static final class Update implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE")
        Path file;

        @Option(names = "--taskdef", paramLabel = "TASKDEF")
        String taskDefinition;

        @Option(names = "--count", paramLabel = "N")
        Integer count;

        @Option(names = "--force-new-deployment", description = "Replace every task (tags are resolved again).")
        boolean force;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                JsonObject request = ControlPlaneCli.file(file).put("service", name);
                if (taskDefinition != null) {
                    request.put("taskDefinition", taskDefinition);
                }
                if (count != null) {
                    request.put("desiredCount", count);
                }
                if (force) {
                    request.put("forceNewDeployment", true);
                }
                print(calls, calls.call("UpdateService", request).getJsonObject("service"));
            });
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "A service with its deployments.")
    static final class Describe implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> print(calls, describe(calls, name)));
        }
    }

    static JsonObject describe(ControlPlaneCli.Calls calls, String name) throws ApiClient.ApiError {
        JsonArray found = calls.call("DescribeServices", new JsonObject().put("services", new JsonArray().add(name)))
                .getJsonArray("services");
        if (found.isEmpty()) {
            throw new ApiClient.ApiError("no service " + name + " in cluster " + calls.options.cluster);
        }
        return found.getJsonObject(0);
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List the cluster's services.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> {
                // Service ARNs are cluster/name; DescribeServices takes the names.
                java.util.List<String> names = ControlPlaneCli.listAll(b -> calls.call("ListServices", b), new JsonObject(),
                        "serviceArns").stream().map(Object::toString).map(arn -> arn.substring(arn.indexOf('/') + 1)).toList();
                JsonArray services = ControlPlaneCli.describeAll(b -> calls.call("DescribeServices", b), "services", names,
                        "services");
                calls.print(new JsonObject().put("services", services), () -> {
                    TableWriter t = new TableWriter("SERVICE", "STATUS", "TASK DEFINITION", "DESIRED", "RUNNING", "PENDING",
                            "ROLLOUT");
                    for (Object o : services) {
                        JsonObject s = (JsonObject) o;
                        t.row(s.getString("serviceName"), s.getString("status"), s.getString("taskDefinition"),
                                s.getInteger("desiredCount"), s.getInteger("runningCount"), s.getInteger("pendingCount"),
                                primary(s).getString("rolloutState"));
                    }
                    t.print(System.out);
                });
            });
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Delete a service: its tasks stop, then it becomes INACTIVE.")
    static final class Rm implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--force", description = "Delete even though desiredCount is above 0.")
        boolean force;

        @Override
        public Integer call() {
            return ControlPlaneCli.run(options, calls -> print(calls, calls.call("DeleteService",
                    new JsonObject().put("service", name).put("force", force)).getJsonObject("service")));
        }
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = "Start a deployment (a new task definition, or the same one with its tags resolved again) and"
                    + " with --wait follow it: exit 0 when it COMPLETED, 1 when it FAILED, 3 on timeout, 4 when a newer"
                    + " deployment took over.")
    static final class Deploy implements Callable<Integer> {
        @Mixin
        ClusterOptions options = new ClusterOptions();

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--taskdef", paramLabel = "TASKDEF")
        String taskDefinition;

        @Option(names = "--wait", description = "Follow the rollout until it completes or fails.")
        boolean await;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "900")
        int timeout;

        @Option(names = "--interval", paramLabel = "MILLIS", defaultValue = "1000", hidden = true)
        int interval;

        @Override
        public Integer call() {
            int[] exit = {0};
            int usage = ControlPlaneCli.run(options, calls -> {
                // Always a new deployment, with tags resolved again, whether or not the revision changes.
                JsonObject request = new JsonObject().put("service", name).put("forceNewDeployment", true);
                if (taskDefinition != null) {
                    request.put("taskDefinition", taskDefinition);
                }
                JsonObject service = calls.call("UpdateService", request).getJsonObject("service");
                String id = primary(service).getString("id");
                if (!await) {
                    print(calls, service);
                    return;
                }
                exit[0] = follow(calls, id);
            });
            return usage != 0 ? usage : exit[0];
        }

        private int follow(ControlPlaneCli.Calls calls, String id) throws ApiClient.ApiError {
            long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
            String last = null;
            while (true) {
                JsonObject service = describe(calls, name);
                JsonObject d = null;
                for (Object o : service.getJsonArray("deployments")) {
                    if (id.equals(((JsonObject) o).getString("id"))) {
                        d = (JsonObject) o;
                    }
                }
                if (d == null) {
                    throw new ApiClient.ApiError("deployment " + id + " is gone from service " + name);
                }
                String state = d.getString("rolloutState");
                String line = id + " " + state + ": " + d.getInteger("runningCount") + " running, "
                        + d.getInteger("pendingCount") + " pending, " + d.getInteger("failedTasks") + " failed, desired "
                        + service.getInteger("desiredCount") + (d.getString("rolloutStateReason") == null ? ""
                        : " (" + d.getString("rolloutStateReason") + ")");
                if (!line.equals(last)) {
                    if (options.json()) {
                        System.out.println(d.encode());
                    } else {
                        System.out.println(line);
                    }
                    last = line;
                }
                if ("COMPLETED".equals(state)) {
                    return 0;
                }
                if ("FAILED".equals(state)) {
                    return FAILED;
                }
                String reason = d.getString("rolloutStateReason", "");
                if (!"PRIMARY".equals(d.getString("status")) && reason.startsWith("superseded by")) {
                    System.err.println("berth: deployment " + id + " was " + reason);
                    return SUPERSEDED;
                }
                if (System.nanoTime() > deadline) {
                    System.err.println("berth: deployment " + id + " still " + state + " after " + timeout + " s");
                    return TIMED_OUT;
                }
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return TIMED_OUT;
                }
            }
        }
    }
}
