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
 * managers, never through the driver: BigDL's AllReduceParameter pattern. A round is three Spark
 * jobs. Train: task w loads round r - 1's averaged shards into the network its executor kept,
 * trains its minibatches and stores its state as N slices in its own block manager. Average:
 * task n fetches slice n of every worker, sums in worker order, divides by N and stores averaged
 * shard n (the reduce-scatter). Gather: N tasks, which Spark spreads over the executors, copy
 * every averaged shard into their executor (the all-gather), so the round ends with every shard
 * on every executor and the next round loads locally. Each executor sends and receives about
 * 2 (N - 1) / N of the state a round, the allreduce bound; the driver receives only the workers'
 * losses, and reads the averaged state when it evaluates or checkpoints.
 * <p>
 * Not a dl4j-spark TrainingMaster: {@code SparkComputationGraph.fit} promises that the driver's
 * network holds the result after every fit, which means receiving the whole state every round:
 * the very cost this class removes.
 * <p>
 * Faults: a task that dies is rerun by Spark from blocks that survive it (averaged shards have a
 * copy on every executor once gathered). Slices lost with their executor after their train task
 * finished are found missing by the average stage; those workers' rounds are trained again from
 * round r - 1's copies, which gives the same slices, so the run's numbers do not change. An
 * averaged shard lost before it was gathered (its only copy was on the lost executor) makes the
 * whole round train again, from round r - 1's copies.
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
    private boolean driverCurrent = true;
    /** Runs between the train and the average stage of every attempt (tests lose slices here). */
    java.util.function.LongConsumer afterTrainStage = r -> { };

    ShardedAveragingTrainer(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers,
                            WorkerTimes times) {
        this.jsc = jsc;
        this.net = net;
        this.workers = workers;
        this.frequency = config.averagingFrequency();
        this.seed = config.seed();
        this.times = times;
        this.layout = FlatState.layout(net, UUID.randomUUID().toString().substring(0, 8), workers);
        // On executors: in memory (spilling to disk), averages copied to every executor. In local mode
        // the driver is the only block manager and holds N + 1 copies of the state at a round's end:
        // in memory while they take at most half the storage memory (Spark counts the direct buffers
        // there), else on disk (the OS page cache), leaving room for the checkpoint's copy of the state.
        boolean executors = SparkBlocks.hasPeers();
        boolean inHeap = executors || (workers + 1) * layout.bytes() <= SparkBlocks.storageMemory() / 2;
        this.sliceLevel = inHeap ? StorageLevel.MEMORY_AND_DISK_SER() : StorageLevel.DISK_ONLY();
        this.configuration = jsc.broadcast(net.getConfiguration());
        publishStart();
    }

    /** Round 0's "average": the starting state, sent by the driver once (S bytes), then held by the executors. */
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
        if (!gathered(0)) {
            throw new IllegalStateException("the starting state was lost from the executors before it was copied: "
                    + "executors are dying (see their logs)");
        }
        SparkBlocks.removeLocal(layout::isSeed);
    }

    /** Copies every averaged shard of round r to every executor; false if one was lost before it was copied. */
    private boolean gathered(long r) {
        return jsc.parallelize(shards(), workers).map(new ShardedStages.Gather(layout, r, sliceLevel)).collect()
                .stream().allMatch(Boolean::booleanValue);
    }

    private List<Integer> shards() {
        return IntStream.range(0, workers).boxed().collect(Collectors.toList());
    }

    @Override
    public double fit(JavaRDD<DataSet> minibatches) {
        round++;
        long iteration = net.getConfiguration().getIterationCount();
        int epoch = net.getConfiguration().getEpochCount();
        double[] losses = new double[workers];
        Set<Integer> pending = new TreeSet<>(shards());
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            if (attempt > ATTEMPTS) {
                throw new IllegalStateException("round " + round + ": the state of workers " + pending + " was "
                        + "lost " + ATTEMPTS + " times running; executors keep dying (see their logs)");
            }
            pending = attemptRound(minibatches, iteration, epoch, pending, losses);
        }
        // Round r's slices and round r - 1's averages were swept by the gather job (in local mode
        // its tasks run in the driver), and executors it missed sweep when their next task starts.
        net.getConfiguration().setIterationCount((int) iteration + frequency);
        driverCurrent = false;
        double sum = 0;
        for (double loss : losses) {
            sum += loss;
        }
        return sum / workers;
    }

    /**
     * Trains the pending workers' round, averages and gathers it; returns the workers whose round
     * must be trained again: those whose slices were lost before they were averaged, or all of
     * them if an averaged shard was lost before it was copied (its executor held its only copy).
     * Either way round r - 1's averages, copied to every executor, are still there to start from.
     */
    private Set<Integer> attemptRound(JavaRDD<DataSet> minibatches, long iteration, int epoch, Set<Integer> pending,
                                      double[] losses) {
        for (ShardedStages.WorkerReport r : minibatches.mapPartitionsWithIndex(new ShardedStages.Train(layout,
                configuration, round, iteration, epoch, seed, pending, sliceLevel, times), true).collect()) {
            losses[r.worker()] = r.loss();
        }
        afterTrainStage.accept(round);
        Set<Integer> lost = new TreeSet<>();
        for (Set<Integer> workersLost : jsc.parallelize(shards(), workers)
                .map(new ShardedStages.Average(layout, round, sliceLevel)).collect()) {
            lost.addAll(workersLost);
        }
        if (!lost.isEmpty()) {
            LOG.warn("round {}: the slices of workers {} were lost with their executor before they were averaged;"
                    + " training those workers' round again from round {}'s copies", round, lost, round - 1);
            return lost;
        }
        if (!gathered(round)) {
            LOG.warn("round {}: an averaged shard was lost with its executor before it was copied; training the "
                    + "round again from round {}'s copies", round, round - 1);
            return new TreeSet<>(shards());
        }
        return lost;
    }

    /** The averaged state of the last round, fetched from the executors when the driver needs it. */
    @Override
    public ComputationGraph network() {
        if (!driverCurrent) {
            ShardTransfer.loadAveraged(new FlatState(net), layout, round);
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
        for (long r = Math.max(0, round - 1); r <= round; r++) {
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
