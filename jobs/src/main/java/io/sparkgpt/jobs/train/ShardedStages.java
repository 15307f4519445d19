package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** The functions {@link ShardedAveragingTrainer} ships to the executors, one Spark stage each. */
final class ShardedStages {
    private ShardedStages() {
    }

    /**
     * A worker's round: its slot, the loss of its last minibatch; or, with {@code startLost}, that
     * it could not start: a chunk of the previous round's averages is on no live executor.
     */
    record WorkerReport(int worker, double loss, boolean startLost) implements Serializable {
    }

    /** Seed stage, task n: copies the driver's starting shard n to its executor as round 0's average. */
    static final class Seed implements VoidFunction<Integer> {
        private final StateLayout layout;
        private final StorageLevel level;

        Seed(StateLayout layout, StorageLevel level) {
            this.layout = layout;
            this.level = level;
        }

        @Override
        public void call(Integer shard) {
            List<String> names = new ArrayList<>();
            for (int c = 0; c < layout.chunks(shard).size(); c++) {
                names.add(layout.seed(shard, c));
            }
            Set<Integer> missing = SparkBlocks.readAll(names, 4 * layout.chunkFloats(), (c, block) ->
                    SparkBlocks.putPooled(layout.averaged(0, shard, c), block.keep(), level)).join();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("the driver's block " + names.get(missing.iterator().next()) + " is gone");
            }
        }
    }

    /**
     * Train stage, task w: round r - 1's averaged state into the network this executor kept (and
     * the chunks it fetched into its block manager: the all-gather), the worker's minibatches
     * trained exactly as dl4j-spark's worker trains them (dropout seeded by (seed, iteration,
     * worker)), then the state out as slices. Workers not in {@code only} (a rerun after lost
     * slices) return at once.
     */
    static final class Train implements Function2<Integer, Iterator<DataSet>, Iterator<WorkerReport>> {
        private final StateLayout layout;
        private final Broadcast<ComputationGraphConfiguration> configuration;
        private final long round;
        private final long iteration;
        private final int epoch;
        private final long seed;
        private final Set<Integer> only;
        private final StorageLevel sliceLevel;
        private final WorkerTimes times;

        Train(StateLayout layout, Broadcast<ComputationGraphConfiguration> configuration, long round, long iteration,
              int epoch, long seed, Set<Integer> only, StorageLevel sliceLevel, WorkerTimes times) {
            this.layout = layout;
            this.sliceLevel = sliceLevel;
            this.configuration = configuration;
            this.round = round;
            this.iteration = iteration;
            this.epoch = epoch;
            this.seed = seed;
            this.only = only;
            this.times = times;
        }

        @Override
        public Iterator<WorkerReport> call(Integer worker, Iterator<DataSet> minibatches) {
            if (!only.contains(worker)) {
                return Collections.emptyIterator();
            }
            SparkBlocks.removeLocal(name -> layout.obsoleteInTrain(round, name));
            long started = System.nanoTime();
            ComputationGraph net = WorkerNetworks.borrow(layout.run());
            if (net == null) {
                // Built like a restored checkpoint, then loaded: see ReusingWorker.build for why.
                net = new ComputationGraph(configuration.value().clone());
                net.init();
                times.built.add(1);
            }
            long built = System.nanoTime();
            FlatState state = new FlatState(net);
            if (!ShardTransfer.loadAveraged(state, layout, round - 1, sliceLevel)) {
                WorkerNetworks.giveBack(layout.run(), net); // reloaded in full by its next round
                return List.of(new WorkerReport(worker, Double.NaN, true)).iterator();
            }
            net.getConfiguration().setIterationCount((int) iteration);
            net.getConfiguration().setEpochCount(epoch);
            long loaded = System.nanoTime();
            while (minibatches.hasNext()) {
                DataSet minibatch = minibatches.next();
                DropoutSeedHook.seed(net, seed, worker);
                net.fit(minibatch);
            }
            double loss = net.score();
            long trained = System.nanoTime();
            List<String> pins = ShardTransfer.storeSlices(state, layout, round, worker, sliceLevel);
            WorkerNetworks.giveBack(layout.run(), net, pins);
            times.initNanos.add(built - started);
            times.computeNanos.add(trained - loaded);
            times.loadNanos.add(loaded - built + System.nanoTime() - trained);
            return List.of(new WorkerReport(worker, loss, false)).iterator();
        }
    }

    /** Average stage, task n: shard n of round r averaged over the workers; returns the workers whose slices are lost. */
    record Average(StateLayout layout, long round, StorageLevel level, WorkerTimes times)
            implements Function<Integer, Set<Integer>> {
        @Override
        public Set<Integer> call(Integer shard) {
            long started = System.nanoTime();
            SparkBlocks.removeLocal(name -> layout.obsoleteInAverage(round, name));
            Set<Integer> lost = ShardTransfer.average(layout, round, shard, layout.shards(), level);
            times.averageNanos.add(System.nanoTime() - started);
            return lost;
        }
    }
}
