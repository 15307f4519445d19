package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.train.GradientStages.OwnerReport;
import io.sparkgpt.jobs.train.GradientStages.WorkerReport;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.collection.JavaConverters;
import scala.collection.Seq;
import scala.reflect.ClassTag$;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Synchronous data parallelism ({@code --sync gradients}): N workers with minibatch B (times M
 * micro-batches) take exactly the step one process takes with batch N x M x B. Each step, worker
 * w computes its gradient and stores it as N slices (no local update); owner n sums slice n of
 * every worker in worker order (the reduce-scatter), the driver combines the owners' squared
 * norms for global clipping, and owner n applies AdamW to shard n alone ({@link ShardAdamW}), so
 * Adam's moments never travel (ZeRO stage 1, BigDL's DistriOptimizer); the next step's workers
 * fetch every parameter shard (the all-gather). Owner n's next task is asked to run on the
 * executor that holds shard n's state, which it then reads from memory.
 * <p>
 * The global batch of step s is the workers' minibatches in worker order (worker w, micro-batch j
 * holds sequences (w M + j) B ..), with one process's dropout masks: the float sums of the
 * gradient are the only difference (worker w's sum over its sequences, then the workers' in
 * order 0..N-1, where one process sums all sequences in one GEMM).
 * <p>
 * Faults: a round's start state gets a second copy on another executor in its first gradient
 * stage ({@link GradientBlocks}); a step that finds a block of its inputs on no live executor
 * makes the round start again from there (or from the driver's network, when the driver holds
 * that state because it just evaluated or checkpointed it); the numbers do not change.
 */
final class ShardedGradientTrainer implements RoundTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedGradientTrainer.class);
    private static final int ATTEMPTS = 3;
    private final JavaSparkContext jsc;
    private final ComputationGraph net;
    private final TrainConfig config;
    private final int workers;
    private final WorkerTimes times;
    private final GradientBlocks blocks;
    private final StorageLevel level;
    private final Broadcast<ComputationGraphConfiguration> configuration;
    private final Broadcast<List<ShardAdamW>> optimizers;
    /** Where each shard's owner ran last (null: anywhere). */
    private final String[] owners;
    /** Steps taken: the driver's network holds the state after it when {@code driverCurrent}. */
    private long step;
    private boolean driverCurrent = true;
    /** The start of the last round whose minibatches were staged as blocks (-1: none). */
    private long staged = -1;

    ShardedGradientTrainer(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers,
                           WorkerTimes times) {
        this.jsc = jsc;
        this.net = net;
        this.config = config;
        this.workers = workers;
        this.times = times;
        String run = UUID.randomUUID().toString().substring(0, 8);
        StateLayout layout = new StateLayout(run, net.numParams(), 0, workers, StateLayout.chunkFloats(workers));
        this.blocks = new GradientBlocks(layout);
        List<ShardAdamW> perShard = IntStream.range(0, workers).mapToObj(n -> ShardAdamW.of(net, layout.shardStart(n),
                layout.shardStart(n + 1))).collect(Collectors.toList());
        boolean executors = SparkBlocks.hasPeers();
        // In local mode the driver's block manager holds everything: the state a step in memory
        // while up to 6 copies of it (slices, sums, p, m) take at most half the storage memory.
        boolean inHeap = executors || 6L * 4 * net.numParams() <= SparkBlocks.storageMemory() / 2;
        this.level = inHeap ? StorageLevel.MEMORY_AND_DISK_SER() : StorageLevel.DISK_ONLY();
        this.configuration = jsc.broadcast(net.getConfiguration());
        this.optimizers = jsc.broadcast(perShard);
        this.owners = new String[workers];
        this.step = net.getConfiguration().getIterationCount();
        publishStart();
    }

    /** The starting state (parameters and moments) as the first round's start, held by the executors. */
    private void publishStart() {
        FlatState state = new FlatState(net);
        INDArray updaterState = net.getUpdater().getStateViewArray();
        StateLayout layout = blocks.layout();
        for (int n = 0; n < workers; n++) {
            OwnerArrays a = OwnerArrays.scratch(optimizers.value().get(n).length());
            optimizers.value().get(n).fromNetwork(updaterState, a.m(), a.v());
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                long[] range = chunks.get(c);
                int floats = Math.toIntExact(range[1] - range[0]);
                SparkBlocks.put(blocks.seed("p", n, c), state.read(range[0], range[1]), StorageLevel.DISK_ONLY());
                for (INDArray moments : List.of(a.m(), a.v())) {
                    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocateDirect(4 * floats);
                    OwnerArrays.read(moments, blocks.chunkOffset(n, c), floats, bytes);
                    SparkBlocks.put(blocks.seed(moments == a.m() ? "m" : "v", n, c), bytes.flip(),
                            StorageLevel.DISK_ONLY());
                }
            }
        }
        record(jsc.parallelize(shards(), workers).map(new GradientStages.Seed(blocks, step, level)).collect());
        SparkBlocks.removeLocal(name -> name.startsWith("sparkgpt-" + blocks.run() + "-seed"));
    }

    private List<Integer> shards() {
        return IntStream.range(0, workers).boxed().collect(Collectors.toList());
    }

    @Override
    public double fit(JavaRDD<DataSet> round) {
        long start = step;
        for (int attempt = 1; ; attempt++) {
            double loss = runRound(round, start, start + config.averagingFrequency());
            if (!Double.isNaN(loss) || attempt == ATTEMPTS) {
                if (Double.isNaN(loss)) {
                    throw new IllegalStateException("steps " + (start + 1) + "..: the state was lost " + ATTEMPTS
                            + " times running; executors keep dying (see their logs)");
                }
                step = start + config.averagingFrequency();
                net.getConfiguration().setIterationCount((int) step);
                driverCurrent = false;
                return loss;
            }
            LOG.warn("steps after {}: a block of a step's inputs was lost with its executor; the round starts "
                    + "again from step {}'s state ({})", start, start, driverCurrent ? "the driver's copy"
                    : "the copies of the round's first gradient stage");
            if (driverCurrent) { // it holds the round's start (it evaluated or checkpointed it)
                publishStart();
            }
        }
    }

    /** The round's steps; the last step's loss, or NaN if a step's inputs were lost (the round must start again). */
    private double runRound(JavaRDD<DataSet> round, long start, long end) {
        if (BarrierRound.possible(jsc, workers)) {
            return barrierRound(round, start, end);
        }
        double loss = Double.NaN;
        long[] jobNanos = new long[3]; // the round's gradient, reduce and update jobs (its log line)
        for (long s = start + 1; s <= end; s++) {
            var st = step(s, start, end);
            double sum = 0;
            long t0 = System.nanoTime();
            List<WorkerReport> reports = round.mapPartitionsWithIndex(new GradientStages.Gradients(st, configuration,
                    level, times), true).collect();
            long t1 = System.nanoTime();
            jobNanos[0] += t1 - t0;
            for (WorkerReport r : reports) {
                if (r.lost()) {
                    return Double.NaN;
                }
                sum += r.loss();
            }
            loss = sum / workers;
            double scale = 1;
            if (config.gradClip() > 0) {
                List<OwnerReport> reduced = ownerTasks().map(new GradientStages.Reduce(st, times)).collect();
                jobNanos[1] += System.nanoTime() - t1;
                if (!record(reduced)) {
                    return Double.NaN;
                }
                scale = GradientStages.clipScale(reduced.stream().mapToDouble(OwnerReport::squaredNorm).toArray(),
                        config.gradClip());
            }
            long t2 = System.nanoTime();
            boolean updated = record(ownerTasks().map(new GradientStages.Update(st, optimizers, scale, level, times))
                    .collect());
            jobNanos[2] += System.nanoTime() - t2;
            if (!updated) {
                return Double.NaN;
            }
        }
        LOG.info(String.format("steps %d-%d: %.3f s a step in gradient jobs, %.3f s in reduce jobs, %.3f s in update "
                + "jobs", start + 1, end, jobNanos[0] / 1e9 / (end - start), jobNanos[1] / 1e9 / (end - start),
                jobNanos[2] / 1e9 / (end - start)));
        return loss;
    }

    /** What the tasks of step s of the round (start, end] know. */
    private GradientStages.Step step(long s, long start, long end) {
        return new GradientStages.Step(blocks, s, start, end, config.gradAccumulation(), config.batchSizePerWorker(),
                workers, config.seed(), net.getConfiguration().getEpochCount());
    }

    /** The round as one barrier job ({@link BarrierRound}) after a job that stages its minibatches. */
    private double barrierRound(JavaRDD<DataSet> round, long start, long end) {
        long t0 = System.nanoTime();
        List<BarrierRound.Staged> staged = round.mapPartitionsWithIndex(new BarrierRound.Stage(blocks, start, level),
                true).collect();
        this.staged = start;
        String[] where = new String[workers];
        int bytes = blocks.maxBlockBytes();
        for (BarrierRound.Staged st : staged) {
            // Task n where shard n's owner ran: its state (3 x 4 bytes a parameter of the shard) is
            // there, where the minibatches are some kB a worker, fetched from wherever they were staged.
            where[st.worker()] = owners[st.worker()] != null ? owners[st.worker()] : st.location();
            bytes = Math.max(bytes, st.bytes());
        }
        long t1 = System.nanoTime();
        var first = step(start + 1, start, end);
        var tag = ClassTag$.MODULE$.<BarrierRound.RoundReport>apply(BarrierRound.RoundReport.class);
        var steps = new BarrierRound.Steps(first, configuration, optimizers, config.gradClip(), bytes, level, times);
        List<BarrierRound.RoundReport> reports = JavaRDD.fromRDD(tasks(where).rdd().barrier().mapPartitions(steps,
                false, tag), tag).collect();
        LOG.info(String.format("steps %d-%d: one barrier job, %.3f s a step, after %.3f s staging the round's data",
                start + 1, end, (System.nanoTime() - t1) / 1e9 / (end - start), (t1 - t0) / 1e9));
        BarrierRound.counted();
        double sum = 0;
        for (BarrierRound.RoundReport r : reports) {
            owners[r.worker()] = r.lost() ? null : r.location();
            if (r.lost()) {
                return Double.NaN;
            }
            sum += r.loss();
        }
        return sum / workers;
    }

    /** Notes where the owners ran; false if one found its inputs lost. */
    private boolean record(List<OwnerReport> reports) {
        boolean complete = true;
        for (OwnerReport r : reports) {
            owners[r.shard()] = r.lost() ? null : r.location();
            complete &= !r.lost();
        }
        return complete;
    }

    /** One task a shard, each preferring the executor its owner ran on (where the shard's state is in memory). */
    private JavaRDD<Integer> ownerTasks() {
        return tasks(owners);
    }

    /** Tasks 0..N-1, task n preferring {@code where[n]} (null: anywhere). */
    private JavaRDD<Integer> tasks(String[] where) {
        List<Tuple2<Integer, Seq<String>>> items = new ArrayList<>();
        for (int n = 0; n < workers; n++) {
            List<String> at = where[n] == null ? List.of() : List.of(where[n]);
            items.add(new Tuple2<>(n, JavaConverters.asScalaBuffer(at).toSeq()));
        }
        var tag = ClassTag$.MODULE$.<Integer>apply(Integer.class);
        return JavaRDD.fromRDD(jsc.sc().makeRDD(JavaConverters.asScalaBuffer(items).toSeq(), tag), tag);
    }

    /** The state after the last round, fetched from the executors when the driver needs it. */
    @Override
    public ComputationGraph network() {
        if (!driverCurrent) {
            INDArray updaterState = net.getUpdater().getStateViewArray();
            boolean complete = blocks.loadParams(new FlatState(net), step, null);
            for (int n = 0; n < workers && complete; n++) {
                OwnerArrays a = OwnerArrays.scratch(optimizers.value().get(n).length());
                complete = blocks.loadMoments(a, n, step);
                optimizers.value().get(n).toNetwork(a.m(), a.v(), updaterState);
            }
            if (!complete) {
                throw new IllegalStateException("step " + step + "'s state was lost with its executors (every replica): "
                        + "resume the run from its last checkpoint (--resume)");
            }
            driverCurrent = true;
        }
        return net;
    }

    /** The bytes of the synchronized state, the gradient or the parameters: 4 a parameter. */
    @Override
    public long stateBytes() {
        return 4 * net.numParams();
    }

    @Override
    public void close() {
        SparkBlocks.removeLocal(blocks.layout()::owns);
        StateLayout layout = blocks.layout();
        for (long s = Math.max(0, step - 1); s <= step; s++) {
            for (int n = 0; n < workers; n++) {
                for (int c = 0; c < layout.chunks(n).size(); c++) {
                    SparkBlocks.removeEverywhere(blocks.params(s, n, c));
                    SparkBlocks.removeEverywhere(blocks.firstMoments(s, n, c));
                    SparkBlocks.removeEverywhere(blocks.secondMoments(s, n, c));
                    for (int w = 0; w < workers; w++) {
                        SparkBlocks.removeEverywhere(layout.slice(s, n, c, w));
                    }
                }
            }
        }
        for (int w = 0; w < workers && staged >= 0; w++) {
            SparkBlocks.removeEverywhere(blocks.data(staged, w));
        }
        configuration.destroy();
        optimizers.destroy();
        BlockMemory.clear();
    }
}
