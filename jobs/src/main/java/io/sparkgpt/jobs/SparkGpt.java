package io.sparkgpt.jobs;

import io.sparkgpt.jobs.bench.BenchCommand;
import io.sparkgpt.jobs.model.EvalCommand;
import io.sparkgpt.jobs.model.ExportCommand;
import io.sparkgpt.jobs.model.GenerateCommand;
import io.sparkgpt.jobs.model.ImportCommand;
import io.sparkgpt.jobs.model.InfoCommand;
import io.sparkgpt.jobs.tokenize.TokenizeCommand;
import io.sparkgpt.jobs.model.ClassifyCommand;
import io.sparkgpt.jobs.train.TrainClassifierCommand;
import io.sparkgpt.jobs.train.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.function.Consumer;

/**
 * The sparkgpt command line: one main class for the local launcher (scripts/sparkgpt) and for
 * {@code spark-submit --class io.sparkgpt.jobs.SparkGpt sparkgpt.jar COMMAND [options]}.
 * It never sets the Spark master: the launcher or spark-submit does.
 */
@Command(name = "sparkgpt", mixinStandardHelpOptions = true, version = "sparkgpt 0.1.0",
        description = "GPT-2 data pipelines and training on Apache Spark.",
        subcommands = {TokenizeCommand.class, TrainCommand.class, TrainClassifierCommand.class, ClassifyCommand.class,
                GenerateCommand.class, InfoCommand.class, EvalCommand.class, ExportCommand.class,
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
     * made YARN mark a successful run FAILED and start a second attempt. A failure there throws
     * instead of exiting, so that YARN's diagnostics carry the error (an exit reads only
     * "Shutdown hook called before final status was reported").
     */
    public static void main(String[] args) {
        StringBuilder error = new StringBuilder();
        int status = execute(error::append, args);
        if (status == 0) {
            return;
        }
        if (inYarnContainer()) {
            throw new IllegalStateException("sparkgpt failed with exit status " + status + ": "
                    + (error.isEmpty() ? "see the driver's log" : error));
        }
        System.exit(status);
    }

    /** The NodeManager sets CONTAINER_ID for every container; the driver is in one only in cluster mode. */
    private static boolean inYarnContainer() {
        return System.getenv("CONTAINER_ID") != null;
    }

    /** Runs a command line and returns its exit status (0 ok, 1 failure, 2 bad input). */
    public static int execute(String... args) {
        return execute(message -> { }, args);
    }

    private static int execute(Consumer<String> onError, String... args) {
        CommandLine commandLine = new CommandLine(new SparkGpt());
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            String message = e instanceof UserInputException ? e.getMessage() : e.toString();
            onError.accept(message);
            cl.getErr().println("error: " + message);
            if (e instanceof UserInputException) {
                return EXIT_USAGE;
            }
            e.printStackTrace(cl.getErr());
            return 1;
        });
        return commandLine.execute(args);
    }
}
