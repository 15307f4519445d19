package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.cli.Sessions;
import io.sparkgpt.jobs.model.ModelOptions;
import io.sparkgpt.model.GptConfig;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code sparkgpt train}: parses and validates options, then runs {@link TrainJob}. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train the GPT data-parallel on Spark (parameter averaging), with checkpoints and exact "
                + "resume.")
public class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--data", paramLabel = "DIR", description = "A dataset made by tokenize (with --resume: the "
            + "run's, unless given).")
    String data;
    @Option(names = "--checkpoint-dir", required = true, paramLabel = "URI",
            description = "Where checkpoints, metrics.jsonl, loss.png and train.json go (any Hadoop file system).")
    String checkpointDir;
    @Mixin
    ModelOptions model;
    @Option(names = "--max-steps", defaultValue = "0", description = "Steps to train to (optimizer steps; with "
            + "--sync params or dl4j, each worker's minibatches).")
    long maxSteps;
    @Option(names = "--epochs", defaultValue = "0", description = "Or: passes over the training windows.")
    double epochs;
    @Option(names = "--batch-size-per-worker", defaultValue = "8", description = "Default: ${DEFAULT-VALUE}.")
    int batch;
    @Option(names = "--averaging-frequency", defaultValue = "5",
            description = "Minibatches each worker trains between parameter averagings. Default: ${DEFAULT-VALUE}.")
    int averaging;
    @Option(names = "--workers", defaultValue = "0", description = "Data-parallel workers (0: Spark's parallelism).")
    int workers;
    @Option(names = "--worker-prefetch", defaultValue = "0", description = "Minibatches a worker prefetches.")
    int prefetch;
    @Option(names = "--aggregation-depth", defaultValue = "2", description = "Tree depth of the parameter "
            + "aggregation (raise for many executors). Default: ${DEFAULT-VALUE}.")
    int aggregationDepth;
    @Option(names = "--lr", defaultValue = "4e-4", description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;
    @Option(names = "--min-lr", defaultValue = "-1", description = "Final rate of the cosine decay (default: lr/10).")
    double minLr;
    @Option(names = "--warmup-steps", defaultValue = "-1", description = "Linear warmup (default: 10% of the steps).")
    long warmup;
    @Option(names = "--lr-decay-steps", defaultValue = "0", description = "Step the decay reaches min-lr "
            + "(default: the run's steps; keep it when resuming with more steps).")
    long decay;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW's decoupled weight decay on "
            + "matrices and embeddings. Default: ${DEFAULT-VALUE}.")
    double weightDecay;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Global gradient-norm clip (0: off).")
    double gradClip;
    @Option(names = "--eval-every", defaultValue = "0", description = "Steps between evaluations (default: 10 rounds).")
    long evalEvery;
    @Option(names = "--eval-batches", defaultValue = "5", description = "Batches a split in each evaluation.")
    int evalBatches;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Steps between checkpoints "
            + "(default: as --eval-every).")
    long checkpointEvery;
    @Option(names = "--keep-checkpoints", defaultValue = "3", description = "Newest checkpoints kept, besides "
            + "the best. Default: ${DEFAULT-VALUE}.")
    int keep;
    @Option(names = "--sample-prompt", defaultValue = "Every effort moves you", description = "Printed with a "
            + "greedy continuation at each evaluation (empty: none). Default: ${DEFAULT-VALUE}.")
    String prompt;
    @Option(names = "--resume", description = "Continue from the newest valid checkpoint in --checkpoint-dir, with "
            + "the run's recorded settings (train.json) for every option not given: extend a run with --max-steps.")
    boolean resume;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the init, data order and dropout.")
    long seed;
    @Option(names = "--init", defaultValue = "gpt2", description = "Initial weights of a new run: gpt2 (normal "
            + "0.02, as GPT-2 and nanoGPT) or book (PyTorch's defaults, as the book's GPTModel). Default: ${DEFAULT-VALUE}.")
    String init;
    @Option(names = "--sync", defaultValue = TrainConfig.SYNC_PARAMS, description = "How workers synchronize: params "
            + "(parameter averaging every --averaging-frequency minibatches, sharded over Spark's block managers), "
            + "dl4j (the same math through the driver: dl4j-spark's stock ParameterAveragingTrainingMaster) or "
            + "gradients (every step: N workers take one process's step with N x the batch, AdamW sharded over "
            + "the workers; --averaging-frequency is then the steps between the driver's rounds). "
            + "Default: ${DEFAULT-VALUE}.")
    String sync;
    @Option(names = "--grad-accumulation", defaultValue = "1", description = "With --sync gradients: micro-batches "
            + "each worker sums per step (nanoGPT's gradient_accumulation_steps), for global batches larger than "
            + "memory allows. Default: ${DEFAULT-VALUE}.")
    int gradAccumulation;
    @Option(names = "--progress-seconds", defaultValue = "5", description = "At most this often, a line "
            + "after a round: step, loss, tokens/s, ETA (0: every round). Default: ${DEFAULT-VALUE}.")
    double progressSeconds;
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        return run("train", null);
    }

    /** Validates the options into a TrainConfig before Spark starts, then runs the job. */
    Integer run(String appName, TrainConfig.Classifier classifier) throws Exception {
        GptConfig config = model.resolve();
        if (config == null) {
            config = GptConfig.preset("mini");
        }
        long every = evalEvery > 0 ? evalEvery : 10L * averaging;
        if (data == null && !resume) {
            throw new UserInputException(TrainConfig.NO_DATA);
        }
        TrainConfig c = new TrainConfig(data, checkpointDir, config, maxSteps, epochs, batch, averaging, workers,
                prefetch, aggregationDepth, lr, minLr >= 0 ? minLr : lr / 10, warmup, decay, weightDecay, gradClip,
                every, evalBatches, checkpointEvery > 0 ? checkpointEvery : every, keep, prompt, resume, seed, init,
                sync, gradAccumulation, progressSeconds, passedSettings(), classifier);
        SparkSession spark = Sessions.start(appName);
        try {
            TrainResult r = TrainJob.run(spark, c);
            System.out.println(json ? Json.of(toJson(r)) : summary(r));
        } finally {
            Sessions.stop(spark);
        }
        return 0;
    }

    /** The TrainConfig keys of the options on the command line (--lr-decay-steps: lr_decay_steps). */
    private Set<String> passedSettings() {
        Set<String> keys = new HashSet<>();
        for (OptionSpec option : spec.commandLine().getParseResult().matchedOptions()) {
            String name = option.longestName();
            keys.add(name.equals("--preset") || name.equals("--config") ? "model"
                    : name.substring(2).replace('-', '_'));
        }
        return keys;
    }

    static Map<String, Object> toJson(TrainResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", r.steps());
        m.put("tokens_seen", r.tokensSeen());
        m.put("train_loss", r.evaluations().isEmpty() ? null : r.last().trainLoss());
        m.put("val_loss", r.evaluations().isEmpty() ? null : r.last().valLoss());
        if (r.confusion() != null) {
            m.put("train_accuracy", r.last().trainAccuracy());
            m.put("val_accuracy", r.last().valAccuracy());
            // The evaluations' accuracies are their samples' (as the losses); this one is the whole split's.
            m.put(r.confusion().split() + "_split_accuracy", r.confusion().accuracy());
            m.put(r.confusion().split() + "_split_examples", r.confusion().total());
            m.put("confusion_matrix", r.confusion().json());
            m.put("confusion_png", r.confusion().png());
        }
        m.put("checkpoint", r.lastCheckpoint());
        m.put("metrics", r.metricsFile());
        m.put("loss_curve", r.lossCurve());
        m.put("seconds", r.seconds());
        m.put("sync", r.sync());
        m.put("state_bytes", r.stateBytes());
        m.put("timing", timing(r.roundTimes())); // seconds a round, averaged over the run's rounds
        m.put("timing_after_first_round", r.afterFirstRound() == null ? null : timing(r.afterFirstRound()));
        m.put("driver_bytes_per_round", r.roundTimes().driverBytesPerRound());
        return m;
    }

    private static Map<String, Object> timing(TrainResult.RoundTimes t) {
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("round_s", t.fitSeconds());
        timing.put("setup_s", t.workerSetupSeconds());
        timing.put("train_s", t.workerTrainingSeconds());
        timing.put("sync_s", t.syncSeconds());
        timing.put("load_s", t.workerLoadSeconds());
        timing.put("average_s", t.averageSeconds());
        return timing;
    }

    static String summary(TrainResult r) {
        if (r.evaluations().isEmpty()) {
            throw new UserInputException("nothing to train: the run had already reached its steps");
        }
        String accuracy = r.confusion() == null ? "" : String.format(", train accuracy %.2f%%, val accuracy %.2f%%"
                + "%n  confusion:  %s", 100 * r.last().trainAccuracy(), 100 * r.last().valAccuracy(), r.confusion().png());
        return String.format("trained %,d steps (%,d tokens) in %.0f s: train loss %.3f, val loss %.3f%s%n"
                        + "  checkpoint: %s%n  metrics:    %s%n  loss curve: %s", r.steps(), r.tokensSeen(),
                r.seconds(), r.last().trainLoss(), r.last().valLoss(), accuracy, r.lastCheckpoint(), r.metricsFile(),
                r.lossCurve());
    }
}
