package io.sparkgpt.jobs.train;

import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The functions {@link ShardedGradientTrainer} ships to the executors: a step is a gradient
 * stage (task w: the step's parameters all-gathered, worker w's gradient, stored as N slices),
 * with clipping a reduce stage (task n: slice n of every worker summed, the shard's squared norm
 * to the driver), and an update stage (task n: AdamW on shard n, its parameters and moments
 * stored for the next step). Blocks are named by {@link GradientBlocks}.
 */
final class GradientStages {
    /** Gradient accumulators of the networks that sum several micro-batches (M > 1). */
    private static final Map<ComputationGraph, INDArray> ACCUMULATORS = new WeakHashMap<>();

    private GradientStages() {
    }

    /** What every task of step {@code step} (1-based) of the round of steps (roundStart, roundEnd] knows. */
    record Step(GradientBlocks blocks, long step, long roundStart, long roundEnd, int microBatches, int batch,
                int workers, long seed, int epoch) implements Serializable {
        int iteration() {
            return (int) (step - 1);
        }

        /** What the tasks of another step of the round know. */
        Step at(long other) {
            return new Step(blocks, other, roundStart, roundEnd, microBatches, batch, workers, seed, epoch);
        }

        /** The sequences of one step: workers x micro-batches x batch. */
        int globalBatch() {
            return workers * microBatches * batch;
        }
    }

    /** Worker w's loss of the step (the mean of its micro-batches'); {@code lost}: a shard of the step's parameters is gone. */
    record WorkerReport(int worker, double loss, boolean lost) implements Serializable {
    }

    /** Shard n's squared gradient norm (reduce), where its owner ran, or {@code lost}: its inputs are gone. */
    record OwnerReport(int shard, double squaredNorm, boolean lost, String location) implements Serializable {
        static OwnerReport lost(int shard) {
            return new OwnerReport(shard, Double.NaN, true, here());
        }
    }

    /**
     * The clip factor of global-norm clipping at {@code clip} from the shards' squared norms (added
     * in shard order): {@code clip / norm} above it, else 1 (DL4J's ClipL2PerLayer rule).
     */
    static double clipScale(double[] squaredNorms, double clip) {
        double sum = 0;
        for (double q : squaredNorms) {
            sum += q;
        }
        double norm = Math.sqrt(sum);
        return norm > clip ? clip / norm : 1;
    }

    /** This executor as a Spark task location (what a later stage's owner task prefers). */
    static String here() {
        var id = SparkEnv.get().blockManager().blockManagerId();
        return "executor_" + id.host() + "_" + id.executorId();
    }

    /** Gradient stage, task w: the step's parameters in, the gradient of worker w's minibatches out, as slices. */
    record Gradients(Step s, Broadcast<ComputationGraphConfiguration> configuration, StorageLevel level,
                     WorkerTimes times) implements Function2<Integer, Iterator<DataSet>, Iterator<WorkerReport>> {
        @Override
        public Iterator<WorkerReport> call(Integer worker, Iterator<DataSet> minibatches) {
            for (long skip = (s.step() - s.roundStart() - 1) * s.microBatches(); skip > 0; skip--) {
                minibatches.next(); // the round's earlier steps'
            }
            return List.of(compute(worker, minibatches)).iterator();
        }

        /** Worker w's step, its micro-batches next in {@code minibatches}. */
        WorkerReport compute(int worker, Iterator<DataSet> minibatches) {
            GradientBlocks blocks = s.blocks();
            SparkBlocks.removeLocal(name -> blocks.obsolete(s.step(), s.roundStart(), name));
            long started = System.nanoTime();
            ComputationGraph net = WorkerNetworks.borrow(blocks.run());
            if (net == null) {
                net = new ComputationGraph(configuration.value().clone());
                net.init();
                times.built.add(1);
            }
            FlatState state = new FlatState(net);
            boolean first = s.step() == s.roundStart() + 1; // the round's start gets its second copies
            if (!blocks.loadParams(state, s.step() - 1, first ? level : null)
                    || first && !blocks.copyMoments((worker + 1) % s.workers(), s.roundStart(), level)) {
                WorkerNetworks.giveBack(blocks.run(), net);
                return new WorkerReport(worker, Double.NaN, true);
            }
            long loaded = System.nanoTime();
            double loss = 0;
            INDArray gradient = net.getFlattenedGradients();
            for (int j = 0; j < s.microBatches(); j++) {
                loss += microBatch(net, minibatches.next(), (long) (worker * s.microBatches() + j) * s.batch());
                gradient = accumulate(net, j);
            }
            long computed = System.nanoTime();
            List<String> pins = blocks.storeSlices(FlatState.bytes(gradient), s.step(), worker, level);
            WorkerNetworks.giveBack(blocks.run(), net, pins);
            times.computeNanos.add(computed - loaded);
            times.loadNanos.add(loaded - started + System.nanoTime() - computed);
            return new WorkerReport(worker, loss / s.microBatches(), false);
        }

        /** The summed gradient of one micro-batch (sequences from {@code first} of the step's global batch); its mean loss. */
        private double microBatch(ComputationGraph net, DataSet minibatch, long first) {
            net.getConfiguration().setIterationCount(s.iteration());
            net.getConfiguration().setEpochCount(s.epoch());
            DropoutSeedHook.seed(net, s.seed(), 0, first);   // one process's masks (worker 0 of a 1-worker run)
            net.setInputs(minibatch.getFeatures());
            net.setLabels(minibatch.getLabels());
            net.computeGradientAndScore();
            return net.score();
        }

        /** The gradient summed over micro-batches 0..j: the network's own (j = 0 of one) or an accumulator. */
        private INDArray accumulate(ComputationGraph net, int j) {
            INDArray gradient = net.getFlattenedGradients();
            if (s.microBatches() == 1) {
                return gradient;
            }
            INDArray sum;
            synchronized (ACCUMULATORS) {
                sum = ACCUMULATORS.computeIfAbsent(net, n -> gradient.dup());
            }
            return j == 0 ? sum.assign(gradient) : sum.addi(gradient);
        }
    }

    /**
     * Reduce stage, task n: shard n's batch-mean gradient, summed into the owner's arrays here
     * (where the update stage is asked to run), and its squared norm.
     */
    record Reduce(Step s, WorkerTimes times) implements Function<Integer, OwnerReport> {
        @Override
        public OwnerReport call(Integer shard) {
            long started = System.nanoTime();
            GradientBlocks blocks = s.blocks();
            SparkBlocks.removeLocal(name -> blocks.obsolete(s.step(), s.roundStart(), name));
            OwnerArrays a = OwnerArrays.of(blocks.run(), shard, blocks.layout().shardLength(shard));
            a.summedStep = -1;
            if (!blocks.sumSlices(s.step(), shard, s.workers(), s.globalBatch(), a.gradient())) {
                return OwnerReport.lost(shard);
            }
            a.summedStep = s.step();
            double squares = squaredNorm(FlatState.bytes(a.gradient()).asFloatBuffer());
            times.averageNanos.add(System.nanoTime() - started);
            return new OwnerReport(shard, squares, false, here());
        }
    }

    /**
     * The sum of squares in double, in four interleaved partial sums added in order at the end:
     * the same on every run, and four times the throughput of one dependent chain of additions.
     */
    static double squaredNorm(FloatBuffer g) {
        double q0 = 0;
        double q1 = 0;
        double q2 = 0;
        double q3 = 0;
        int n = g.limit();
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            double a = g.get(i);
            double b = g.get(i + 1);
            double c = g.get(i + 2);
            double d = g.get(i + 3);
            q0 += a * a;
            q1 += b * b;
            q2 += c * c;
            q3 += d * d;
        }
        for (; i < n; i++) {
            double a = g.get(i);
            q0 += a * a;
        }
        return q0 + q1 + q2 + q3;
    }

    /**
     * Update stage, task n: AdamW on shard n with the clip factor {@code scale} (1: none), from the
     * shard's parameters and moments after the previous step and its summed gradient (the reduce
     * stage's here, else summed now); publishes the parameters after this step.
     */
    record Update(Step s, Broadcast<List<ShardAdamW>> optimizers, double scale, StorageLevel level,
                  WorkerTimes times) implements Function<Integer, OwnerReport> {
        @Override
        public OwnerReport call(Integer shard) {
            long started = System.nanoTime();
            GradientBlocks blocks = s.blocks();
            SparkBlocks.removeLocal(name -> blocks.obsolete(s.step(), s.roundStart(), name));
            OwnerArrays a = OwnerArrays.of(blocks.run(), shard, blocks.layout().shardLength(shard));
            boolean complete = blocks.loadOwnerState(a, shard, s.step() - 1, s.roundStart())
                    && (a.summedStep == s.step()
                    || blocks.sumSlices(s.step(), shard, s.workers(), s.globalBatch(), a.gradient()));
            if (!complete) {
                return OwnerReport.lost(shard);
            }
            ShardAdamW.State from = a.state();
            int into = blocks.writableSide(a, shard, s.roundStart());
            a.changing();
            a.use(into);
            optimizers.value().get(shard).step(from, a.state(), a.gradient(), scale, s.iteration(), s.epoch());
            blocks.storeOwnerState(a, shard, s.step(), s.step() == s.roundEnd(), level);
            times.averageNanos.add(System.nanoTime() - started);
            return new OwnerReport(shard, 0, false, here());
        }
    }

    /** Seed stage, task n: the driver's starting shard n copied to an executor as the first round's start. */
    record Seed(GradientBlocks blocks, long step, StorageLevel level) implements Function<Integer, OwnerReport> {
        @Override
        public OwnerReport call(Integer shard) {
            List<String> from = new ArrayList<>();
            List<String> to = new ArrayList<>();
            blocks.seedNames(step, shard, from, to);
            Set<Integer> missing = SparkBlocks.readAll(from, blocks.maxBlockBytes(), (i, block) ->
                    SparkBlocks.putPooled(to.get(i), block.keep(), level)).join();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("the driver's block " + from.get(missing.iterator().next()) + " is gone");
            }
            return new OwnerReport(shard, 0, false, here());
        }
    }
}
