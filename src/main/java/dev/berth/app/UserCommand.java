package dev.berth.app;

import dev.berth.auth.Users;
import dev.berth.config.BerthConfig;
import dev.berth.config.ConfigException;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth user add|passwd|rm|ls|groups}: edits the users file (htpasswd, bcrypt) and the group
 * file on this machine, where {@code berth serve} reads them (from {@code auth.users} and
 * {@code auth.groups} under {@code storage.root}); a running server picks changes up within seconds.
 */
@Command(name = "user", mixinStandardHelpOptions = true,
        description = "Manage the users and groups berth serve signs in (auth.users, auth.groups).",
        subcommands = {UserCommand.Add.class, UserCommand.Passwd.class, UserCommand.Rm.class, UserCommand.Ls.class,
                UserCommand.Groups.class})
final class UserCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Where the files are: the same configuration berth serve reads. */
    static final class FileOptions {
        @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:BERTH_CONFIG:-config/berth.yaml}",
                description = "Configuration file (default: ${DEFAULT-VALUE}, or $BERTH_CONFIG).")
        Path configFile;

        @Option(names = "--storage", paramLabel = "DIR", description = "Data directory (storage.root).")
        String storage;

        Users users() throws IOException {
            Map<String, String> overrides = new LinkedHashMap<>();
            if (storage != null) {
                overrides.put("storage.root", storage);
            }
            BerthConfig config = ServeCommand.loadConfig(configFile, overrides);
            Path root = Path.of(config.storage().root());
            return Users.load(root.resolve(config.auth().users()), root.resolve(config.auth().groups()));
        }
    }

    @FunctionalInterface
    interface UsersCall {
        int run(Users users) throws IOException;
    }

    static int withUsers(FileOptions files, UsersCall call) {
        try {
            return call.run(files.users());
        } catch (ConfigException e) {
            System.err.println("berth: configuration error: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("berth: " + e.getMessage());
            return 1;
        }
    }

    /** The new password: from standard input's first line, or asked twice on the terminal. */
    static String newPassword(boolean fromStdin) throws IOException {
        String password;
        if (fromStdin) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            password = in.readLine();
            if (password == null) {
                throw new IllegalArgumentException("--password-stdin: standard input is empty");
            }
        } else {
            Console console = System.console();
            if (console == null) {
                throw new IllegalArgumentException("no terminal to ask for the password on: use --password-stdin");
            }
            char[] first = console.readPassword("Password: ");
            char[] second = console.readPassword("Password again: ");
            if (first == null || second == null || !Arrays.equals(first, second)) {
                throw new IllegalArgumentException("the passwords differ");
            }
            password = new String(first);
        }
        if (password.length() < 8 || password.length() > 72) {
            throw new IllegalArgumentException("a password needs 8 to 72 characters (bcrypt reads at most 72)");
        }
        return password;
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user (or set an existing one's password).")
    static final class Add implements Callable<Integer> {
        @Mixin
        FileOptions files = new FileOptions();

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = {"-g", "--group"}, paramLabel = "GROUP",
                description = "Make the user a member of this group (repeatable; \"admin\" makes an admin by default).")
        List<String> groups = List.of();

        @Option(names = "--password-stdin", description = "Read the password from standard input.")
        boolean stdin;

        @Override
        public Integer call() {
            return withUsers(files, users -> {
                Users.checkName("user", name);
                groups.forEach(g -> Users.checkName("group", g));
                boolean existed = users.exists(name);
                users.setPassword(name, newPassword(stdin));
                if (!groups.isEmpty()) {
                    LinkedHashSet<String> all = new LinkedHashSet<>(users.groupsOf(name));
                    all.addAll(groups);
                    users.setGroups(name, all);
                }
                System.out.println((existed ? "updated " : "added ") + name
                        + (groups.isEmpty() ? "" : " (groups: " + String.join(", ", users.groupsOf(name)) + ")"));
                return 0;
            });
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, description = "Change a user's password.")
    static final class Passwd implements Callable<Integer> {
        @Mixin
        FileOptions files = new FileOptions();

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--password-stdin", description = "Read the password from standard input.")
        boolean stdin;

        @Override
        public Integer call() {
            return withUsers(files, users -> {
                if (!users.exists(name)) {
                    System.err.println("berth: no user " + name + " (berth user add " + name + ")");
                    return 1;
                }
                users.setPassword(name, newPassword(stdin));
                System.out.println("password of " + name + " changed; their refresh tokens no longer work");
                return 0;
            });
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a user (and their group memberships).")
    static final class Rm implements Callable<Integer> {
        @Mixin
        FileOptions files = new FileOptions();

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return withUsers(files, users -> {
                if (!users.remove(name)) {
                    System.err.println("berth: no user " + name);
                    return 1;
                }
                System.out.println("removed " + name + "; their CI tokens no longer grant anything");
                return 0;
            });
        }
    }

    @Command(name = "groups", mixinStandardHelpOptions = true, description = "Set the groups a user is a member of.")
    static final class Groups implements Callable<Integer> {
        @Mixin
        FileOptions files = new FileOptions();

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1..*", paramLabel = "GROUP", description = "The groups (none: no group).")
        List<String> groups = List.of();

        @Override
        public Integer call() {
            return withUsers(files, users -> {
                if (!users.exists(name)) {
                    System.err.println("berth: no user " + name);
                    return 1;
                }
                users.setGroups(name, new LinkedHashSet<>(groups));
                System.out.println(name + ": " + (groups.isEmpty() ? "no groups" : String.join(", ", users.groupsOf(name))));
                return 0;
            });
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List users with their groups.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        FileOptions files = new FileOptions();

        @Override
        public Integer call() {
            return withUsers(files, users -> {
                TableWriter table = new TableWriter("NAME", "GROUPS");
                for (String n : users.names()) {
                    table.row(n, String.join(",", users.groupsOf(n)));
                }
                table.print(System.out);
                return 0;
            });
        }
    }
}
