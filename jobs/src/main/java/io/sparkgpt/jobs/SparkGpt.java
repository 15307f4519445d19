package io.sparkgpt.jobs;

import io.sparkgpt.jobs.bench.BenchCommand;
import io.sparkgpt.jobs.model.EvalCommand;
import io.sparkgpt.jobs.model.ExportCommand;
import io.sparkgpt.jobs.model.GenerateCommand;
import io.sparkgpt.jobs.model.ImportCommand;
import io.sparkgpt.jobs.model.InfoCommand;
import io.sparkgpt.jobs.tokenize.TokenizeCommand;
import io.sparkgpt.jobs.train.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The sparkgpt command line: one main class for the local launcher (scripts/sparkgpt) and for
 * {@code spark-submit --class io.sparkgpt.jobs.SparkGpt sparkgpt.jar COMMAND [options]}.
 * It never sets the Spark master: the launcher or spark-submit does.
 */
@Command(name = "sparkgpt", mixinStandardHelpOptions = true, version = "sparkgpt 0.1.0",
        description = "GPT-2 data pipelines and training on Apache Spark.",
        subcommands = {TokenizeCommand.class, TrainCommand.class, GenerateCommand.class, InfoCommand.class, EvalCommand.class, ExportCommand.class,
                ImportCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class SparkGpt implements Runnable {
    /** Exit status for bad input (unknown option, missing path, value out of range). */
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a command (see --help)");
    }

    /**
     * Exits only on failure. On success main returns: in YARN cluster mode the ApplicationMaster
     * reports the application's final status after main returns, and a System.exit(0) before that
     * made YARN mark a successful run FAILED and start a second attempt.
     */
    public static void main(String[] args) {
        int status = execute(args);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs a command line and returns its exit status (0 ok, 1 failure, 2 bad input). */
    public static int execute(String... args) {
        CommandLine commandLine = new CommandLine(new SparkGpt());
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            if (e instanceof UserInputException) {
                cl.getErr().println("error: " + e.getMessage());
                return EXIT_USAGE;
            }
            cl.getErr().println("error: " + e);
            e.printStackTrace(cl.getErr());
            return 1;
        });
        return commandLine.execute(args);
    }
}
