package dev.berth.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code berth}: the one program. Subcommands do the work. */
@Command(name = "berth",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A self-hosted container registry that deploys what you push.",
        subcommands = {ServeCommand.class, AgentCommand.class, WebhookCommand.class, ClusterCommand.class, TaskdefCommand.class,
                ServiceCommand.class, TaskCommand.class, NodeCommand.class, EventsCommand.class, UserCommand.class,
                TokenCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0 || !ServeCommand.isServing()) {
            System.exit(code);
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** The version from the jar manifest, when there is one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"berth " + (v == null ? "(development build)" : v)};
        }
    }
}
