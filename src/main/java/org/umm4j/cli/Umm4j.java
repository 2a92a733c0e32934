package org.umm4j.cli;

import org.umm4j.backend.Umm4jBackend;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Optional;

/**
 * The {@code umm4j} command line. Each sub-command is its own class; results go to stdout, logs to
 * SLF4J (stderr). Run {@code umm4j --help} or {@code umm4j <command> --help}.
 */
@Command(name = "umm4j", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Self-supervised pretraining, coding-rate reduction and UMM fine-tuning on the JVM.",
        subcommands = {InfoCommand.class, DemoCommand.class, PretrainCommand.class, UmmCommand.class,
                EvalCommand.class, ReportCommand.class, MonitorCommand.class, TimingCommand.class, KnnEvalCommand.class,
                ExportCommand.class, FinetuneCommand.class})
public final class Umm4j implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Read by {@link Launcher} from the raw arguments before ND4J loads; declared here so every command accepts it. */
    @CommandLine.Option(names = "--device", defaultValue = "auto", scope = CommandLine.ScopeType.INHERIT,
            description = "auto (a supported GPU in a -Pcuda build, else the CPU), cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    /** Entry point: applies the GPU guard, then runs the command and exits with its code. */
    public static void main(String[] args) throws Exception {
        Umm4jBackend.tuneOpenMp(); // before anything loads ND4J's native library
        Optional<Integer> child = Launcher.relaunchIfNeeded(args);
        System.exit(child.orElseGet(() -> run(args)));
    }

    /** Runs a command line in this JVM and returns its exit code (used by tests). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** @return the configured picocli command line (case-insensitive enum values, clear errors) */
    public static CommandLine commandLine() {
        return new CommandLine(new Umm4j()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
