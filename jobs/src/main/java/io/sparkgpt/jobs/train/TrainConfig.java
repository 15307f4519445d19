package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.Trainable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything the train job needs, validated before Spark starts. Steps count optimizer steps
 * (DL4J iterations; with parameter averaging, each worker's minibatches): one round is
 * {@code averagingFrequency} steps and consumes workers x batch x gradAccumulation x
 * averagingFrequency windows. With {@code --sync gradients} a round is the steps one group of
 * Spark jobs runs between the driver's evaluations and checkpoints; every step synchronizes. {@code workers} 0 means Spark's default parallelism.
 */
public record TrainConfig(String data, String checkpointDir, GptConfig model, long maxSteps, double epochs,
                          int batchSizePerWorker, int averagingFrequency, int workers, int workerPrefetch,
                          int aggregationDepth, double lr, double minLr, long warmupSteps, long lrDecaySteps, double weightDecay,
                          double gradClip, long evalEvery, int evalBatches, long checkpointEvery,
                          int keepCheckpoints, String samplePrompt, boolean resume, long seed, String init,
                          String sync, int gradAccumulation, double progressSeconds, Set<String> passed,
                          Classifier classifier) {

    /**
     * train-classifier's settings (null: language modeling): the checkpoint whose weights start
     * the classifier (null: from scratch) and the parameters trained.
     */
    public record Classifier(String from, Trainable trainable) {
        public Classifier {
            require(trainable != null, "no --trainable given");
            require(trainable == Trainable.ALL || from != null, "--trainable " + trainable.id() + " freezes "
                    + "untrained weights: give --from CHECKPOINT (a pretrained model), or train all");
        }
    }

    public TrainConfig {
        // A resumed run may take its dataset from the run's train.json (RunStart.withRecordedSettings).
        require(resume || data != null && !data.isBlank(), NO_DATA);
        require(checkpointDir != null && !checkpointDir.isBlank(), "no --checkpoint-dir given");
        require(model != null, "no model: give --preset or --config");
        require(maxSteps > 0 ^ epochs > 0, "give exactly one of --max-steps and --epochs (a positive number)");
        require(batchSizePerWorker >= 1, "--batch-size-per-worker " + batchSizePerWorker + " must be at least 1");
        require(averagingFrequency >= 1, "--averaging-frequency " + averagingFrequency + " must be at least 1");
        require(workers >= 0, "--workers " + workers + " must be 0 (Spark's parallelism) or more");
        require(workerPrefetch >= 0 && aggregationDepth >= 1, "--worker-prefetch must be >= 0 and "
                + "--aggregation-depth >= 1");
        require(lr > 0 && minLr >= 0 && minLr <= lr, "--lr " + lr + " must be positive and --min-lr " + minLr
                + " between 0 and it");
        require(warmupSteps >= -1 && lrDecaySteps >= 0 && weightDecay >= 0 && gradClip >= 0, "--warmup-steps, "
                + "--lr-decay-steps, --weight-decay and --grad-clip must not be negative");
        require(evalEvery > 0 && evalEvery % averagingFrequency == 0, "--eval-every " + evalEvery + " must be a "
                + "positive multiple of --averaging-frequency " + averagingFrequency + " (parameters exist only "
                + "after a round)");
        require(checkpointEvery > 0 && checkpointEvery % averagingFrequency == 0, "--checkpoint-every "
                + checkpointEvery + " must be a positive multiple of --averaging-frequency " + averagingFrequency);
        require(evalBatches >= 1 && keepCheckpoints >= 1, "--eval-batches and --keep-checkpoints must be >= 1");
        require(INITS.contains(init), "--init " + init + " is not one of " + INITS);
        require(SYNCS.contains(sync), "--sync " + sync + " is not one of " + SYNCS);
        require(gradAccumulation >= 1, "--grad-accumulation " + gradAccumulation + " must be at least 1");
        require(gradAccumulation == 1 || sync.equals(SYNC_GRADIENTS), "--grad-accumulation " + gradAccumulation
                + " needs --sync " + SYNC_GRADIENTS + " (parameter averaging takes a step every minibatch)");
        require(progressSeconds >= 0, "--progress-seconds " + progressSeconds + " must not be negative");
        passed = passed == null ? null : Set.copyOf(passed);
    }

    /** A language-modeling config. */
    public TrainConfig(String data, String checkpointDir, GptConfig model, long maxSteps, double epochs,
                       int batchSizePerWorker, int averagingFrequency, int workers, int workerPrefetch,
                       int aggregationDepth, double lr, double minLr, long warmupSteps, long lrDecaySteps,
                       double weightDecay, double gradClip, long evalEvery, int evalBatches, long checkpointEvery,
                       int keepCheckpoints, String samplePrompt, boolean resume, long seed, String init, String sync,
                       int gradAccumulation, double progressSeconds, Set<String> passed) {
        this(data, checkpointDir, model, maxSteps, epochs, batchSizePerWorker, averagingFrequency, workers,
                workerPrefetch, aggregationDepth, lr, minLr, warmupSteps, lrDecaySteps, weightDecay, gradClip, evalEvery,
                evalBatches, checkpointEvery, keepCheckpoints, samplePrompt, resume, seed, init, sync, gradAccumulation,
                progressSeconds, passed, null);
    }

    /** Whether this run trains a classifier (train-classifier). */
    public boolean classifies() {
        return classifier != null;
    }

    /** The parameters trained: all, unless a classifier freezes some. */
    public Trainable trainable() {
        return classifier == null ? Trainable.ALL : classifier.trainable();
    }

    /** A config whose every setting was given explicitly (nothing is taken from a resumed run's train.json). */
    public TrainConfig(String data, String checkpointDir, GptConfig model, long maxSteps, double epochs,
                       int batchSizePerWorker, int averagingFrequency, int workers, int workerPrefetch,
                       int aggregationDepth, double lr, double minLr, long warmupSteps, long lrDecaySteps,
                       double weightDecay, double gradClip, long evalEvery, int evalBatches, long checkpointEvery,
                       int keepCheckpoints, String samplePrompt, boolean resume, long seed, String init, String sync) {
        this(data, checkpointDir, model, maxSteps, epochs, batchSizePerWorker, averagingFrequency, workers,
                workerPrefetch, aggregationDepth, lr, minLr, warmupSteps, lrDecaySteps, weightDecay, gradClip, evalEvery,
                evalBatches, checkpointEvery, keepCheckpoints, samplePrompt, resume, seed, init, sync, 1, 5, null, null);
    }

    /** Whether the user gave setting {@code key} (a {@link #toMap} key); null {@code passed} means all were. */
    public boolean passed(String key) {
        return passed == null || passed.contains(key);
    }

    static final String NO_DATA = "no --data given: name a dataset made by sparkgpt tokenize";

    /** Sharded averaging over Spark's block managers (ShardedAveragingTrainer). */
    public static final String SYNC_PARAMS = "params";
    /** dl4j-spark's stock ParameterAveragingTrainingMaster, through the driver: the baseline. */
    public static final String SYNC_DL4J = "dl4j";
    /** Synchronous gradients, AdamW sharded over the workers: N workers step as one process with N x the batch. */
    public static final String SYNC_GRADIENTS = "gradients";
    public static final List<String> SYNCS = List.of(SYNC_PARAMS, SYNC_DL4J, SYNC_GRADIENTS);

    /** Sequences one optimizer step consumes: the workers' minibatches (times micro-batches with --sync gradients). */
    public int globalBatch(int workerCount) {
        return workerCount * batchSizePerWorker * gradAccumulation;
    }

    /** GPT-2's normal(0, 0.02), or PyTorch's module defaults as the book's GPTModel gets them. */
    public static final List<String> INITS = List.of("gpt2", "book");

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new UserInputException(message);
        }
    }

    /** Windows one averaging round consumes. */
    public int windowsPerRound(int workerCount) {
        return globalBatch(workerCount) * averagingFrequency;
    }

    /** Total steps: --max-steps, or whole rounds covering --epochs of the training windows. */
    public long totalSteps(long trainWindows, int workerCount) {
        if (maxSteps > 0) {
            return (maxSteps + averagingFrequency - 1) / averagingFrequency * averagingFrequency;
        }
        long rounds = Math.max(1, (long) Math.floor(epochs * trainWindows / windowsPerRound(workerCount)));
        return rounds * averagingFrequency;
    }

    /** Warmup steps: --warmup-steps, or (-1) 10% of the decay horizon as in the book's appendix D. */
    public long warmup(long totalSteps) {
        return warmupSteps >= 0 ? warmupSteps : decaySteps(totalSteps) / 10;
    }

    /** The step the cosine decay reaches min_lr: --lr-decay-steps, or the run's total steps. */
    public long decaySteps(long totalSteps) {
        return lrDecaySteps > 0 ? lrDecaySteps : totalSteps;
    }

    /**
     * The config with these settings (keys of {@link #toMap}, "model" a JSON object of book names)
     * in place of its own.
     */
    public TrainConfig with(Map<String, Object> settings) {
        Map<String, Object> m = new LinkedHashMap<>(toMap());
        m.put("model", model);
        m.putAll(settings);
        Object mdl = m.get("model");
        GptConfig gpt = mdl instanceof GptConfig g ? g : GptConfig.fromJson(io.sparkgpt.jobs.cli.Json.of(mdl));
        return new TrainConfig(str(m, "data"), str(m, "checkpoint_dir"), gpt, num(m, "max_steps").longValue(),
                num(m, "epochs").doubleValue(), num(m, "batch_size_per_worker").intValue(),
                num(m, "averaging_frequency").intValue(), num(m, "workers").intValue(),
                num(m, "worker_prefetch").intValue(), num(m, "aggregation_depth").intValue(),
                num(m, "lr").doubleValue(), num(m, "min_lr").doubleValue(), num(m, "warmup_steps").longValue(),
                num(m, "lr_decay_steps").longValue(), num(m, "weight_decay").doubleValue(),
                num(m, "grad_clip").doubleValue(), num(m, "eval_every").longValue(), num(m, "eval_batches").intValue(),
                num(m, "checkpoint_every").longValue(), num(m, "keep_checkpoints").intValue(),
                str(m, "sample_prompt"), resume, num(m, "seed").longValue(), str(m, "init"), str(m, "sync"),
                num(m, "grad_accumulation").intValue(), num(m, "progress_seconds").doubleValue(), passed,
                m.containsKey("trainable") ? new Classifier(str(m, "from"), Trainable.of(str(m, "trainable"))) : null);
    }

    private static String str(Map<String, Object> m, String key) {
        return m.get(key) == null ? null : String.valueOf(m.get(key));
    }

    private static Number num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number n ? n : Double.valueOf(String.valueOf(v));
    }

    /** The effective config, with the command line's option names (the model's in book names). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("checkpoint_dir", checkpointDir);
        m.put("max_steps", maxSteps);
        m.put("epochs", epochs);
        m.put("batch_size_per_worker", batchSizePerWorker);
        m.put("averaging_frequency", averagingFrequency);
        m.put("workers", workers);
        m.put("worker_prefetch", workerPrefetch);
        m.put("aggregation_depth", aggregationDepth);
        m.put("lr", lr);
        m.put("min_lr", minLr);
        m.put("warmup_steps", warmupSteps);
        m.put("lr_decay_steps", lrDecaySteps);
        m.put("weight_decay", weightDecay);
        m.put("grad_clip", gradClip);
        m.put("eval_every", evalEvery);
        m.put("eval_batches", evalBatches);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("sample_prompt", samplePrompt);
        m.put("seed", seed);
        m.put("init", init);
        m.put("sync", sync);
        m.put("grad_accumulation", gradAccumulation);
        m.put("progress_seconds", progressSeconds);
        if (classifier != null) {
            m.put("from", classifier.from());
            m.put("trainable", classifier.trainable().id());
        }
        return m;
    }
}
