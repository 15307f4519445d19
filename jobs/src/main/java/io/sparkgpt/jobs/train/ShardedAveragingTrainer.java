package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Parameter averaging (the same math as dl4j-spark's) with the state sharded over Spark's block
 * managers, never through the driver: BigDL's AllReduceParameter pattern. A round is two Spark
 * jobs. Train: task w loads round r - 1's averaged shards into the network its executor kept,
 * keeping a copy of each shard it fetched from another executor (the all-gather), trains its
 * minibatches and stores its state as N slices in its own block manager. Average: task n
 * fetches slice n of every worker, sums in worker order, divides by N and stores averaged shard
 * n (the reduce-scatter). Each executor sends and receives about 2 (N - 1) / N of the state a
 * round, the allreduce bound; the driver receives only the workers' losses, and reads the
 * averaged state when it evaluates or checkpoints.
 * <p>
 * Not a dl4j-spark TrainingMaster: {@code SparkComputationGraph.fit} promises that the driver's
 * network holds the result after every fit, which means receiving the whole state every round:
 * the very cost this class removes.
 * <p>
 * Faults: a task that dies is rerun by Spark from blocks that survive it. Slices lost with their
 * executor after their train task finished are found missing by the average stage; those
 * workers' rounds are trained again from round r - 1's averages, which gives the same slices.
 * An averaged shard of round r - 1 has one copy until round r's train stage copies it; lost
 * before that, it is found missing by round r's train stage (or by the driver's read), and round
 * r - 1 is trained and averaged again from round r - 2's averages, kept on every executor that
 * trained round r - 1 until round r is averaged. Either way the run's numbers do not change.
 */
final class ShardedAveragingTrainer implements RoundTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedAveragingTrainer.class);
    private static final int ATTEMPTS = 3;
    private final JavaSparkContext jsc;
    private final ComputationGraph net;
    private final int workers;
    private final int frequency;
    private final long seed;
    private final WorkerTimes times;
    private final StateLayout layout;
    private final StorageLevel sliceLevel;
    private final Broadcast<ComputationGraphConfiguration> configuration;
    private long round;
    /** The last round's inputs: trained again if its averages are lost before they are copied. */
    private RoundInputs last;
    private boolean driverCurrent = true;
    /** Whether the driver's network still holds the starting state (round 0's average). */
    private boolean driverHoldsStart = true;
    /** Runs between the train and the average stage of every attempt (tests lose slices here). */
    java.util.function.LongConsumer afterTrainStage = r -> { };

    /** What round r trains: its minibatches, and the iteration and epoch counts it starts from. */
    private record RoundInputs(long round, JavaRDD<DataSet> minibatches, long iteration, int epoch) {
    }

    ShardedAveragingTrainer(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers,
                            WorkerTimes times) {
        this.jsc = jsc;
        this.net = net;
        this.workers = workers;
        this.frequency = config.averagingFrequency();
        this.seed = config.seed();
        this.times = times;
        this.layout = FlatState.layout(net, UUID.randomUUID().toString().substring(0, 8), workers);
        // On executors: in memory (spilling to disk). In local mode the driver is the only block
        // manager and holds up to N + 2 copies of the state: in memory while they take at most half
        // the storage memory (Spark counts the direct buffers there), else on disk (the OS page
        // cache), leaving room for the checkpoint's copy of the state.
        boolean executors = SparkBlocks.hasPeers();
        boolean inHeap = executors || (workers + 2) * layout.bytes() <= SparkBlocks.storageMemory() / 2;
        this.sliceLevel = inHeap ? StorageLevel.MEMORY_AND_DISK_SER() : StorageLevel.DISK_ONLY();
        this.configuration = jsc.broadcast(net.getConfiguration());
        publishStart();
    }

    /** Round 0's "average": the starting state, sent by the driver (S bytes), then held by the executors. */
    private void publishStart() {
        FlatState state = new FlatState(net);
        for (int n = 0; n < workers; n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                SparkBlocks.put(layout.seed(n, c), state.read(chunks.get(c)[0], chunks.get(c)[1]),
                        StorageLevel.DISK_ONLY());
            }
        }
        jsc.parallelize(shards(), workers).foreach(new ShardedStages.Seed(layout, sliceLevel));
        SparkBlocks.removeLocal(layout::isSeed);
    }

    private List<Integer> shards() {
        return IntStream.range(0, workers).boxed().collect(Collectors.toList());
    }

    @Override
    public double fit(JavaRDD<DataSet> minibatches) {
        round++;
        RoundInputs inputs = new RoundInputs(round, minibatches, net.getConfiguration().getIterationCount(),
                net.getConfiguration().getEpochCount());
        double[] losses = train(inputs);
        last = inputs;
        net.getConfiguration().setIterationCount((int) inputs.iteration() + frequency);
        driverCurrent = false;
        double sum = 0;
        for (double loss : losses) {
            sum += loss;
        }
        return sum / workers;
    }

    /** Trains and averages one round, as often as faults make it necessary; returns the workers' losses. */
    private double[] train(RoundInputs inputs) {
        double[] losses = new double[workers];
        Set<Integer> pending = new TreeSet<>(shards());
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            if (attempt > ATTEMPTS) {
                throw new IllegalStateException("round " + inputs.round() + ": the state of workers " + pending
                        + " was lost " + ATTEMPTS + " times running; executors keep dying (see their logs)");
            }
            pending = attemptRound(inputs, pending, losses);
        }
        return losses;
    }

    /**
     * Trains the pending workers' round and averages it; returns the workers whose round must be
     * trained again: those whose slices were lost before they were averaged, or all of them if a
     * shard of the previous round's averages was lost (that round is then trained again first).
     */
    private Set<Integer> attemptRound(RoundInputs inputs, Set<Integer> pending, double[] losses) {
        long r = inputs.round();
        boolean startLost = false;
        for (ShardedStages.WorkerReport report : inputs.minibatches().mapPartitionsWithIndex(new ShardedStages.Train(
                layout, configuration, r, inputs.iteration(), inputs.epoch(), seed, pending, sliceLevel, times),
                true).collect()) {
            losses[report.worker()] = report.loss();
            startLost |= report.startLost();
        }
        if (startLost) {
            LOG.warn("round {}: a shard of round {}'s averages was lost with its executor before it was copied; "
                    + "training round {} again", r, r - 1, r - 1);
            trainAgain(r - 1);
            return new TreeSet<>(shards());
        }
        afterTrainStage.accept(r);
        Set<Integer> lost = new TreeSet<>();
        for (Set<Integer> workersLost : jsc.parallelize(shards(), workers)
                .map(new ShardedStages.Average(layout, r, sliceLevel, times)).collect()) {
            lost.addAll(workersLost);
        }
        if (!lost.isEmpty()) {
            LOG.warn("round {}: the slices of workers {} were lost with their executor before they were averaged;"
                    + " training those workers' round again from round {}'s averages", r, lost, r - 1);
        }
        return lost;
    }

    /** Makes round r's averages again: round 0's from the driver's network, a later one by training it again. */
    private void trainAgain(long r) {
        if (r == 0 && driverHoldsStart) {
            publishStart();
        } else if (last != null && last.round() == r) {
            train(last);
        } else {
            throw new IllegalStateException("round " + r + "'s averaged state and the state it was trained from "
                    + "were both lost with their executors: resume the run from its last checkpoint (--resume)");
        }
    }

    /** The averaged state of the last round, fetched from the executors when the driver needs it. */
    @Override
    public ComputationGraph network() {
        if (!driverCurrent) {
            driverHoldsStart = false;
            for (int attempt = 1; !ShardTransfer.loadAveraged(new FlatState(net), layout, round, null); attempt++) {
                if (attempt == ATTEMPTS) {
                    throw new IllegalStateException("round " + round + "'s averaged state was lost " + ATTEMPTS
                            + " times running; executors keep dying (see their logs)");
                }
                LOG.warn("round {}: a shard of its averages was lost with its executor; training it again", round);
                trainAgain(round);
            }
            driverCurrent = true;
        }
        return net;
    }

    /** The bytes of one worker's synchronized state. */
    @Override
    public long stateBytes() {
        return layout.bytes();
    }

    /** The layout of this trainer's blocks (tests remove some). */
    StateLayout layout() {
        return layout;
    }

    @Override
    public void close() {
        SparkBlocks.removeLocal(layout::owns); // the driver's (all of them in local mode), memory released now
        for (long r = Math.max(0, round - 2); r <= round; r++) {
            for (int n = 0; n < workers; n++) {
                for (int c = 0; c < layout.chunks(n).size(); c++) {
                    SparkBlocks.removeEverywhere(layout.averaged(r, n, c));
                    for (int w = 0; w < workers; w++) {
                        SparkBlocks.removeEverywhere(layout.slice(r, n, c, w));
                    }
                }
            }
        }
        configuration.destroy();
        BlockMemory.clear();
    }
}
