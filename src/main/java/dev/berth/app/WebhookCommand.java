package dev.berth.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth webhook ls|deliveries|redeliver}: webhook endpoints and deliveries of a running server. */
@Command(name = "webhook", mixinStandardHelpOptions = true,
        description = "Inspect webhook endpoints and deliveries, and redeliver parked events.",
        subcommands = {WebhookCommand.Ls.class, WebhookCommand.Deliveries.class, WebhookCommand.Redeliver.class})
final class WebhookCommand implements Callable<Integer> {
    /** Without a subcommand: the usage, as a usage error. */
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.err);
        return 2;
    }

    /** Options every client command shares. */
    static final class ClientOptions {
        @Option(names = "--server", paramLabel = "URL", defaultValue = "${env:BERTH_SERVER:-http://127.0.0.1:5000}",
                description = "Berth server (default: ${DEFAULT-VALUE}, or $BERTH_SERVER).")
        String server;

        @Option(names = "--ca-file", paramLabel = "PEM", defaultValue = "${env:BERTH_CA_FILE:-}",
                description = "Trust the certificates in this PEM file (e.g. the server's storage/pki/ca.crt) for an "
                        + "https server, instead of the system's (or $BERTH_CA_FILE).")
        String caFile;

        @Option(names = "--user", paramLabel = "NAME", defaultValue = "${env:BERTH_USER:-}",
                description = "Sign in as this user (or $BERTH_USER), with the password in $BERTH_PASSWORD; "
                        + "needed when the server has auth.mode basic or token.")
        String user;

        @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:BERTH_TOKEN:-}",
                description = "A CI token (berth token create) instead of a user (or $BERTH_TOKEN).")
        String token;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table or json (default: ${DEFAULT-VALUE}).")
        String output;

        boolean json() {
            return "json".equals(output);
        }

        /** The Authorization header for the credentials given, or null. */
        String authorization() {
            if (token != null && !token.isEmpty()) {
                return "Bearer " + token;
            }
            if (user != null && !user.isEmpty()) {
                String password = System.getenv().getOrDefault("BERTH_PASSWORD", "");
                return "Basic " + java.util.Base64.getEncoder().encodeToString(
                        (user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return null;
        }

        int check() {
            if (!output.equals("table") && !output.equals("json")) {
                System.err.println("berth: --output must be table or json");
                return 2;
            }
            return 0;
        }
    }

    /** Runs a client command, turning API errors into a message and exit status 1. */
    static int call(ClientOptions options, ClientCall call) {
        int usage = options.check();
        if (usage != 0) {
            return usage;
        }
        try {
            call.run(new ApiClient(options.server, options.caFile, options.authorization()));
            return 0;
        } catch (ApiClient.ApiError e) {
            System.err.println("berth: " + e.getMessage());
            return 1;
        }
    }

    @FunctionalInterface
    interface ClientCall {
        void run(ApiClient client) throws ApiClient.ApiError;
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List endpoints with their health.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        ClientOptions options = new ClientOptions();

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject body = client.get("/api/webhooks");
                if (options.json()) {
                    System.out.println(body.encodePrettily());
                    return;
                }
                TableWriter table = new TableWriter("NAME", "URL", "STATE", "BACKLOG", "FAILED", "LAST SUCCESS",
                        "LAST ERROR");
                for (Object o : body.getJsonArray("endpoints", new JsonArray())) {
                    JsonObject e = (JsonObject) o;
                    String lastError = e.getString("lastError") == null ? null
                            : e.getString("lastErrorAt") + " " + e.getString("lastError");
                    table.row(e.getString("name"), e.getString("url"), e.getBoolean("disabled") ? "disabled" : "enabled",
                            e.getLong("backlog"), e.getLong("failed"), e.getString("lastSuccessAt"), lastError);
                }
                table.print(System.out);
            });
        }
    }

    @Command(name = "deliveries", mixinStandardHelpOptions = true, description = "List deliveries, newest first.")
    static final class Deliveries implements Callable<Integer> {
        @Mixin
        ClientOptions options = new ClientOptions();

        @Option(names = "--endpoint", paramLabel = "NAME", description = "Only this endpoint's deliveries.")
        String endpoint;

        @Option(names = "--status", paramLabel = "STATUS", description = "pending, delivered or failed.")
        String status;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--before", paramLabel = "ID",
                description = "Only deliveries older than ID (the last ID of the previous page).")
        Long before;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                StringBuilder query = new StringBuilder("/api/webhooks/deliveries?limit=").append(limit);
                if (before != null) {
                    query.append("&before=").append(before);
                }
                if (endpoint != null) {
                    query.append("&endpoint=").append(URLEncoder.encode(endpoint, StandardCharsets.UTF_8));
                }
                if (status != null) {
                    query.append("&status=").append(URLEncoder.encode(status, StandardCharsets.UTF_8));
                }
                JsonObject body = client.get(query.toString());
                if (options.json()) {
                    System.out.println(body.encodePrettily());
                    return;
                }
                TableWriter table = new TableWriter("ID", "ENDPOINT", "STATUS", "ATTEMPTS", "ACTION", "REPOSITORY",
                        "TAG", "DIGEST", "LAST ERROR");
                for (Object o : body.getJsonArray("deliveries", new JsonArray())) {
                    JsonObject d = (JsonObject) o;
                    JsonObject event = d.getJsonObject("event", new JsonObject());
                    String digest = event.getString("digest");
                    table.row(d.getLong("id"), d.getString("endpoint"), d.getString("status"), d.getInteger("attempts"),
                            event.getString("action"), event.getString("repository"), event.getString("tag"),
                            digest == null ? null : digest.substring(0, Math.min(19, digest.length())),
                            d.getString("lastError"));
                }
                table.print(System.out);
            });
        }
    }

    @Command(name = "redeliver", mixinStandardHelpOptions = true,
            description = "Queue a delivery again (e.g. one parked as failed) with fresh attempts.")
    static final class Redeliver implements Callable<Integer> {
        @Mixin
        ClientOptions options = new ClientOptions();

        @Parameters(paramLabel = "ID", description = "Delivery id (from `berth webhook deliveries`).")
        long id;

        @Override
        public Integer call() {
            return WebhookCommand.call(options, client -> {
                JsonObject body = client.post("/api/webhooks/deliveries/" + id + "/redeliver");
                if (options.json()) {
                    System.out.println(body.encodePrettily());
                } else {
                    System.out.println("delivery " + id + " queued again for endpoint " + body.getString("endpoint"));
                }
            });
        }
    }
}
