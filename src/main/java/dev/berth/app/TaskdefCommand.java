package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth taskdef register|ls|describe|deregister}. */
@Command(name = "taskdef", mixinStandardHelpOptions = true, description = "Register, list and describe task definitions.",
        subcommands = {TaskdefCommand.Register.class, TaskdefCommand.Ls.class, TaskdefCommand.Describe.class,
                TaskdefCommand.Deregister.class})
final class TaskdefCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    static void print(WebhookCommand.ClientOptions options, JsonObject td) {
        if (options.json()) {
            System.out.println(td.encodePrettily());
            return;
        }
        TableWriter t = new TableWriter("TASK DEFINITION", "STATUS", "NETWORK", "CONTAINER", "IMAGE", "CPU", "MEMORY", "PORTS");
        for (Object o : td.getJsonArray("containerDefinitions")) {
            JsonObject c = (JsonObject) o;
            StringBuilder ports = new StringBuilder();
            for (Object p : c.getJsonArray("portMappings", new JsonArray())) {
                JsonObject m = (JsonObject) p;
                ports.append(ports.length() == 0 ? "" : ",").append(m.getInteger("hostPort") == 0 ? "*" : m.getInteger("hostPort"))
                        .append("->").append(m.getInteger("containerPort")).append('/').append(m.getString("protocol"));
            }
            Integer memory = c.getInteger("memory") != null ? c.getInteger("memory") : c.getInteger("memoryReservation");
            t.row(td.getString("taskDefinitionArn"), td.getString("status"), td.getString("networkMode"), c.getString("name"),
                    c.getString("image"), c.getInteger("cpu"), memory, ports.toString());
        }
        t.print(System.out);
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Register a new revision from a JSON file (ECS task definition fields).")
    static final class Register implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "Task definition JSON.")
        Path file;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> print(options,
                    client.action("RegisterTaskDefinition", ControlPlaneCli.file(file)).getJsonObject("taskDefinition")));
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List task definition revisions.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Option(names = "--family-prefix", paramLabel = "PREFIX")
        String prefix;

        @Option(names = "--status", paramLabel = "STATUS", description = "ACTIVE or INACTIVE.")
        String status;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonArray all = ControlPlaneCli.listAll(b -> client.action("ListTaskDefinitions", b), new JsonObject()
                        .put("familyPrefix", prefix).put("status", status), "taskDefinitionArns");
                if (options.json()) {
                    System.out.println(new JsonObject().put("taskDefinitionArns", all).encodePrettily());
                } else {
                    TableWriter t = new TableWriter("TASK DEFINITION");
                    all.forEach(t::row);
                    t.print(System.out);
                }
            });
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Describe family[:revision].")
    static final class Describe implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "TASKDEF")
        String ref;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> print(options, client.action("DescribeTaskDefinition",
                    new JsonObject().put("taskDefinition", ref)).getJsonObject("taskDefinition")));
        }
    }

    @Command(name = "deregister", mixinStandardHelpOptions = true, description = "Mark family:revision INACTIVE.")
    static final class Deregister implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(paramLabel = "TASKDEF")
        String ref;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> print(options, client.action("DeregisterTaskDefinition",
                    new JsonObject().put("taskDefinition", ref)).getJsonObject("taskDefinition")));
        }
    }
}
