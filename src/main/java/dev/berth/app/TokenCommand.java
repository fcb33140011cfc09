package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth token create|ls|rm}: CI tokens over the API ({@code /api/tokens}), made by the
 * signed-in user ({@code --user} with {@code $BERTH_PASSWORD}).
 */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Manage CI tokens: revocable credentials limited to some repositories and actions.",
        subcommands = {TokenCommand.Create.class, TokenCommand.Ls.class, TokenCommand.Rm.class})
final class TokenCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a token. It grants at most what you may do yourself, within --repo and the actions; "
                    + "its secret is shown once.")
    static final class Create implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Option(names = "--repo", paramLabel = "GLOB",
                description = "Repositories it may act on (repeatable; * within a segment, ** across: 'team/**').")
        List<String> repositories = new ArrayList<>();

        @Option(names = "--pull", description = "It may pull.")
        boolean pull;

        @Option(names = "--push", description = "It may push.")
        boolean push;

        @Option(names = "--delete", description = "It may delete.")
        boolean delete;

        @Option(names = "--api", description = "It may use the control-plane API (admins only).")
        boolean api;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "token", description = "What it is for.")
        String name;

        @Option(names = "--expires", paramLabel = "DURATION", description = "Lifetime (e.g. 30d); default: until revoked.")
        String expires;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonArray actions = new JsonArray();
                if (pull) {
                    actions.add("pull");
                }
                if (push) {
                    actions.add("push");
                }
                if (delete) {
                    actions.add("delete");
                }
                JsonObject body = new JsonObject().put("name", name).put("repositories", new JsonArray(repositories))
                        .put("actions", actions).put("api", api);
                if (expires != null) {
                    body.put("expiresIn", expires);
                }
                JsonObject created = client.postJson("/api/tokens", body);
                if (options.json()) {
                    System.out.println(created.encodePrettily());
                } else {
                    System.out.println(created.getString("token"));
                    System.err.println("token " + created.getString("id") + " made; the secret above is shown only "
                            + "once (docker login -u " + created.getString("owner") + " --password-stdin)");
                }
            });
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List your tokens (an admin's: everyone's).")
    static final class Ls implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject body = client.get("/api/tokens");
                if (options.json()) {
                    System.out.println(body.encodePrettily());
                    return;
                }
                TableWriter table = new TableWriter("ID", "NAME", "OWNER", "REPOSITORIES", "ACTIONS", "API", "EXPIRES");
                for (Object o : body.getJsonArray("tokens")) {
                    JsonObject t = (JsonObject) o;
                    table.row(t.getString("id"), t.getString("name"), t.getString("owner"),
                            String.join(",", t.getJsonArray("repositories").stream().map(String::valueOf).toList()),
                            String.join(",", t.getJsonArray("actions").stream().map(String::valueOf).toList()),
                            t.getBoolean("api") ? "yes" : "no", t.getString("expiresAt"));
                }
                table.print(System.out);
            });
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Revoke a token.")
    static final class Rm implements Callable<Integer> {
        @Mixin
        WebhookCommand.ClientOptions options = new WebhookCommand.ClientOptions();

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                client.delete("/api/tokens/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8));
                System.out.println("revoked " + id);
            });
        }
    }
}
