package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.checkpoint.TrainingState;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.model.BookInit;
import io.sparkgpt.model.GptNetwork;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a run starts: a fresh network in an empty checkpoint directory (writing train.json, the
 * effective config), or, with --resume, the newest valid checkpoint of a run with the same
 * settings. A requested resume that finds nothing fails; it never starts afresh silently.
 */
record RunStart(ComputationGraph net, TrainingState state, WarmupCosineSchedule schedule, String checkpoint) {
    static final String TRAIN_JSON = "train.json";
    /** Settings that fix the data order and the optimizer: a resume must not change them. */
    private static final List<String> FIXED = List.of("data", "batch_size_per_worker", "averaging_frequency",
            "workers", "lr", "min_lr", "warmup_steps", "lr_decay_steps", "weight_decay", "grad_clip", "seed", "model",
            "from", "trainable");
    /**
     * With --sync gradients the workers' count and batch may change on resume as long as the
     * global batch does: N workers take one process's steps, so 4 x 4 continues 2 x 8 exactly.
     */
    private static final List<String> FIXED_GRADIENTS = List.of("data", "global_batch_size", "averaging_frequency",
            "sync", "lr", "min_lr", "warmup_steps", "lr_decay_steps", "weight_decay", "grad_clip", "seed", "model",
            "from", "trainable");
    private static final Logger LOG = LoggerFactory.getLogger(RunStart.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static RunStart of(TrainConfig config, CheckpointStore store, int workers, long totalSteps, Configuration hadoop)
            throws IOException {
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(config.lr(), config.minLr(),
                config.warmup(totalSteps), config.decaySteps(totalSteps));
        // The book's AdamW: torch's default betas and eps; decoupled weight decay in GptNetwork.
        IUpdater adamW = Adam.builder().learningRateSchedule(schedule).beta1(0.9).beta2(0.999).epsilon(1e-8).build();
        Map<String, Object> effective = effectiveConfig(config, workers, totalSteps);
        FileSystem fs = store.directory().getFileSystem(hadoop);
        Path trainJson = new Path(store.directory(), TRAIN_JSON);
        if (!config.resume()) {
            TrainJob.requireNoCheckpoints(store);
            fs.delete(new Path(store.directory(), MetricsLog.METRICS), false); // from a run that never checkpointed
            try (FSDataOutputStream out = fs.create(trainJson, true)) {
                out.write(JSON.writeValueAsBytes(effective));
            }
            ComputationGraph net = GptNetwork.build(config.model(), config.seed(), adamW, config.weightDecay(),
                    config.gradClip(), DataType.FLOAT, config.trainable());
            if (config.init().equals("book")) {
                BookInit.apply(net, config.seed());
            }
            return new RunStart(net, TrainingState.start(config.seed()), schedule, null);
        }
        for (String torn : store.removeTornWrites()) {
            LOG.warn("removed {}: a checkpoint the previous run died while writing", torn);
        }
        CheckpointStore.Loaded loaded = store.latestValid(refused -> LOG.warn("{}: falling back to an older one", refused))
                .orElseThrow(() -> new UserInputException("--resume: no valid checkpoint in " + store.directory()
                        + ": start without --resume, or name the run's --checkpoint-dir"));
        requireSameSettings(fs, trainJson, effective);
        try (FSDataOutputStream out = fs.create(trainJson, true)) { // the same run, now this long
            out.write(JSON.writeValueAsBytes(effective));
        }
        ComputationGraph net = NetworkCheckpoints.restore(loaded.checkpoint(), adamW, config.weightDecay(),
                config.gradClip(), config.trainable());
        LOG.info("resuming from {} at step {}", loaded.path(), loaded.checkpoint().state().step());
        return new RunStart(net, loaded.checkpoint().state(), schedule, loaded.path().toString());
    }

    /**
     * On --resume, the run's recorded settings (train.json, derived defaults included) for every
     * setting the user did not pass, as nanoGPT's resume keeps the run's config: extending
     * --max-steps continues the same schedule. A setting passed explicitly is kept, and refused
     * later if it conflicts with a recorded one that fixes the run. Without --resume or train.json,
     * the config as it is.
     */
    static TrainConfig withRecordedSettings(TrainConfig config, CheckpointStore store, Configuration hadoop)
            throws IOException {
        FileSystem fs = store.directory().getFileSystem(hadoop);
        Path trainJson = new Path(store.directory(), TRAIN_JSON);
        if (!config.resume() || !fs.exists(trainJson)) {
            if (config.data() == null || config.data().isBlank()) {
                throw new UserInputException(TrainConfig.NO_DATA);
            }
            return config;
        }
        Map<?, ?> recorded = readJson(fs, trainJson);
        boolean lengthPassed = config.passed("max_steps") || config.passed("epochs"); // one setting: the run's length
        Map<String, Object> taken = new LinkedHashMap<>();
        for (String key : config.toMap().keySet()) {
            boolean isLength = key.equals("max_steps") || key.equals("epochs");
            if (!key.equals("checkpoint_dir") && recorded.containsKey(key) && (isLength ? !lengthPassed : !config.passed(key))) {
                taken.put(key, recorded.get(key));
            }
        }
        if (!config.passed("model") && recorded.containsKey("model")) {
            taken.put("model", recorded.get("model"));
        }
        TrainConfig resumed = config.with(taken);
        Map<String, Object> before = new LinkedHashMap<>(config.toMap());
        before.put("model", Json.parse(config.model().toJson()));
        List<String> changed = taken.keySet().stream().filter(k -> !String.valueOf(JSON.convertValue(before.get(k),
                Object.class)).equals(String.valueOf(taken.get(k)))).map(k -> k.equals("model") ? "model (the run's)"
                : k + " " + taken.get(k)).toList();
        LOG.info("--resume: settings not given on the command line are the run's, from {}{}", trainJson,
                changed.isEmpty() ? "" : "; they differ from this command's defaults in: " + String.join(", ", changed));
        return resumed;
    }

    private static Map<?, ?> readJson(FileSystem fs, Path file) throws IOException {
        try (FSDataInputStream in = fs.open(file)) {
            return JSON.readValue((java.io.InputStream) in, Map.class);
        }
    }

    private static Map<String, Object> effectiveConfig(TrainConfig config, int workers, long totalSteps) {
        Map<String, Object> m = new LinkedHashMap<>(config.toMap());
        m.put("workers", workers);
        m.put("total_steps", totalSteps);
        m.put("global_batch_size", config.globalBatch(workers));
        m.put("lr_decay_steps", config.decaySteps(totalSteps));
        m.put("warmup_steps", config.warmup(totalSteps));
        m.put("model", Json.parse(config.model().toJson()));
        return m;
    }

    private static void requireSameSettings(FileSystem fs, Path trainJson, Map<String, Object> now) throws IOException {
        if (!fs.exists(trainJson)) {
            return;
        }
        Map<?, ?> before = readJson(fs, trainJson);
        boolean gradients = TrainConfig.SYNC_GRADIENTS.equals(now.get("sync"))
                || TrainConfig.SYNC_GRADIENTS.equals(before.get("sync"));
        for (String key : gradients ? FIXED_GRADIENTS : FIXED) {
            Object was = before.get(key);
            Object is = JSON.convertValue(now.get(key), Object.class);
            if (was != null && !String.valueOf(was).equals(String.valueOf(is))) {
                throw new UserInputException("--resume with " + key + " " + is + ", but the run was started with "
                        + was + ": resume with the same setting (it fixes the data order and optimizer), or start a "
                        + "new run in another --checkpoint-dir");
            }
        }
    }
}
