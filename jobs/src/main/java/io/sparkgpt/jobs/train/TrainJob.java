package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.checkpoint.TrainingState;
import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The train job: data-parallel training of the GPT with dl4j-spark parameter averaging. Each
 * averaging round is one {@code fit} over exactly that round's windows (see {@link RoundPlan}), so
 * the data order, the learning-rate schedule and the checkpoints are all functions of the step.
 * Only the driver evaluates and writes checkpoints.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    private TrainJob() {
    }

    public static TrainResult run(SparkSession spark, TrainConfig given) throws IOException {
        long started = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        CheckpointStore store = new CheckpointStore(given.checkpointDir(), hadoop);
        TrainConfig recorded = RunStart.withRecordedSettings(given, store, hadoop);
        DatasetInfo dataset = DatasetInfo.read(recorded.data(), hadoop);
        ClassifierRuns.Resolved resolved = ClassifierRuns.resolve(recorded, dataset, hadoop);
        TrainConfig config = resolved.config();
        dataset.requireFits(config.model());
        int workers = config.workers() > 0 ? config.workers() : jsc.defaultParallelism();
        WindowData train = WindowData.load(spark, dataset, DatasetFormat.TRAIN);
        RoundPlan plan = new RoundPlan(train.count(), config.windowsPerRound(workers), config.seed());
        long totalSteps = config.totalSteps(train.count(), workers);
        RunStart start = RunStart.of(config, store, workers, totalSteps, hadoop);
        MetricsLog metrics = new MetricsLog(store.directory().getFileSystem(hadoop), store.directory());
        if (config.classifies()) {
            ClassifierRuns.start(resolved, start.net(), dataset, metrics);
        }
        EvalSample trainSample = new EvalSample(train, config.evalBatches(), config.batchSizePerWorker(), config.seed());
        WindowData val = WindowData.load(spark, dataset, DatasetFormat.VAL);
        EvalSample valSample = new EvalSample(val, config.evalBatches(), config.batchSizePerWorker(), config.seed());
        WorkerTimes workerTimes = new WorkerTimes(jsc.sc());
        Run run = new Run(config, dataset, store, plan, start, train, val, workers, totalSteps, trainSample,
                valSample, metrics, started);
        LOG.info(Progress.whereToWatch(jsc.sc().uiWebUrl(), metrics.metricsPath().toString()));
        DriverTraffic traffic = DriverTraffic.listen(jsc.sc());
        try (RoundTrainer trainer = RoundTrainer.of(jsc, start.net(), config, workers, workerTimes)) {
            return train(trainer, run, new RoundTimings(workerTimes, workers, traffic, jsc));
        } finally {
            traffic.stop();
        }
    }

    /** What a run's loop reads: fixed before the first round. */
    private record Run(TrainConfig config, DatasetInfo dataset, CheckpointStore store, RoundPlan plan, RunStart start,
                       WindowData windows, WindowData val, int workers, long totalSteps, EvalSample trainSample,
                       EvalSample valSample, MetricsLog metrics, long started) {
    }

    private static TrainResult train(RoundTrainer trainer, Run run, RoundTimings timings) throws IOException {
        TrainConfig config = run.config();
        RunStart start = run.start();
        long totalSteps = run.totalSteps();
        MetricsLog metrics = run.metrics();
        TrainingState state = start.state();
        List<TrainResult.Evaluation> evaluations = metrics.readThrough(state.step());
        List<Double> roundLosses = new ArrayList<>();
        String lastCheckpoint = start.checkpoint();
        long windowTokens = (long) run.plan().perRound() * run.dataset().maxLength();
        RoundProgress progress = new RoundProgress(config.progressSeconds(), totalSteps, state.step());
        // tokens/s counts the rounds' time only (nanoGPT's per-iteration rate): not evaluations,
        // checkpoint writes or the first evaluation's network gather, which one JVM's bench has not either.
        long trainNanosSinceEval = 0;
        long tokensSinceClock = 0;
        if (state.step() == 0) { // nanoGPT's step-0 evaluation: the losses before any training
            var e = evaluation(run, trainer, 0, 0, start.schedule().valueAt(0, 0), 0);
            evaluations.add(e);
            metrics.append(e);
            LOG.info(Progress.initialLine(e, totalSteps));
        }

        int frequency = config.averagingFrequency();
        boolean gradients = config.sync().equals(TrainConfig.SYNC_GRADIENTS);
        int perStep = config.batchSizePerWorker() * config.gradAccumulation();
        RoundData data = new RoundData(run.windows(), run.plan(), run.workers(), perStep * frequency,
                config.batchSizePerWorker(), gradients ? perStep : 0);
        for (long round = state.step() / frequency; state.step() < totalSteps; round++) {
            long t0 = System.nanoTime();
            JavaRDD<DataSet> batches = data.round(round, (totalSteps - state.step() + frequency - 1) / frequency)
                    .persist(StorageLevel.MEMORY_ONLY());
            double loss = timings.traffic().round(timings.jsc(), round, () -> trainer.fit(batches));
            batches.unpersist(false);
            long roundNanos = System.nanoTime() - t0;
            timings.roundDone(roundNanos);
            trainNanosSinceEval += roundNanos;
            state = advance(state, config, run.plan(), round, windowTokens);
            tokensSinceClock += windowTokens;
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException(String.format("training diverged: the loss is %s at step %d; the "
                        + "last good checkpoint is %s (lower --lr or raise --warmup-steps, then --resume)",
                        loss, state.step(), lastCheckpoint == null ? "none" : lastCheckpoint));
            }
            roundLosses.add(loss);
            progress.round(state.step(), loss, windowTokens);
            boolean last = state.step() >= totalSteps;
            if (state.step() % config.evalEvery() == 0 || last) {
                long t1 = System.nanoTime();
                double seconds = trainNanosSinceEval / 1e9;
                var e = evaluation(run, trainer, state.step(), state.tokensSeen(), start.schedule().valueAt(
                        (int) state.step() - 1, 0), tokensSinceClock / seconds);
                state = best(state, e);
                progress.clear();
                evaluations.add(e);
                metrics.append(e);
                LOG.info(Progress.line(e, totalSteps, state, seconds, tokensSinceClock, run.started(),
                        start.state().step()));
                if (!config.classifies()) {
                    Progress.sample(trainer.network(), config.samplePrompt(), run.dataset().encoding())
                            .ifPresent(LOG::info);
                }
                timings.eval += System.nanoTime() - t1;
                LOG.info(timings.line());
                trainNanosSinceEval = 0;
                tokensSinceClock = 0;
            }
            if (state.step() % config.checkpointEvery() == 0 || last) {
                long t2 = System.nanoTime();
                lastCheckpoint = run.store().save(NetworkCheckpoints.capture(trainer.network(), state)).toString();
                run.store().retain(config.keepCheckpoints(), state.bestStep() >= 0 ? Set.of(state.bestStep()) : Set.of());
                timings.checkpoint += System.nanoTime() - t2;
            }
        }
        if (!evaluations.isEmpty()) {
            metrics.drawCurve(evaluations);
        }
        ConfusionMatrix confusion = config.classifies() ? confusion(run, trainer.network(), state.step()) : null;
        return new TrainResult(state.step(), state.tokensSeen(), evaluations, roundLosses, lastCheckpoint,
                metrics.metricsPath().toString(), metrics.curvePath().toString(), (System.nanoTime() - run.started()) / 1e9,
                timings.round(), timings.afterFirstRound(), config.sync(), trainer.stateBytes(), confusion);
    }

    /** Losses (and a classifier's accuracies) on the fixed train and validation samples, no dropout. */
    private static TrainResult.Evaluation evaluation(Run run, RoundTrainer trainer, long step, long tokens, double lr,
                                                     double tokensPerSecond) {
        EvalSample.Score train = run.trainSample().score(trainer.network());
        EvalSample.Score val = run.valSample().score(trainer.network());
        return new TrainResult.Evaluation(step, tokens, lr, train.loss(), val.loss(), tokensPerSecond,
                train.accuracy(), val.accuracy());
    }

    /** The final model's confusion matrix on the validation split (train's if there is none). */
    private static ConfusionMatrix confusion(Run run, org.deeplearning4j.nn.graph.ComputationGraph net, long step)
            throws IOException {
        boolean onVal = run.val().count() > 0;
        WindowData split = onVal ? run.val() : run.windows();
        long[][] counts = ConfusionMatrix.count(net, split, run.dataset().labels().size(),
                run.config().batchSizePerWorker());
        ConfusionMatrix m = ConfusionMatrix.write(run.dataset().labels(), counts, onVal ? DatasetFormat.VAL
                : DatasetFormat.TRAIN, step, run.metrics());
        LOG.info("confusion matrix ({} split, {} examples, accuracy {}): {}", m.split(), m.total(),
                String.format("%.4f", m.accuracy()), m.json());
        return m;
    }

    private static TrainingState advance(TrainingState s, TrainConfig c, RoundPlan plan, long round, long tokens) {
        long next = round + 1;
        return new TrainingState(s.step() + c.averagingFrequency(), s.tokensSeen() + tokens, plan.epochOf(next),
                plan.offsetInEpoch(next) / c.batchSizePerWorker(), s.seed(), s.bestValLoss(), s.bestStep());
    }

    private static TrainingState best(TrainingState s, TrainResult.Evaluation e) {
        if (Double.isNaN(e.valLoss()) || (!Double.isNaN(s.bestValLoss()) && s.bestValLoss() <= e.valLoss())) {
            return s;
        }
        return new TrainingState(s.step(), s.tokensSeen(), s.epoch(), s.batchInEpoch(), s.seed(), e.valLoss(),
                e.step());
    }

    static void requireNoCheckpoints(CheckpointStore store) throws IOException {
        List<Path> existing = store.list();
        if (!existing.isEmpty()) {
            throw new UserInputException("--checkpoint-dir " + store.directory() + " already holds checkpoints (newest "
                    + existing.get(0).getName() + "): pass --resume to continue that run, or choose another directory");
        }
    }
}
