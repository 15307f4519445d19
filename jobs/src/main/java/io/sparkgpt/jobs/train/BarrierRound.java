package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.train.GradientStages.OwnerReport;
import io.sparkgpt.jobs.train.GradientStages.Step;
import io.sparkgpt.jobs.train.GradientStages.WorkerReport;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.nd4j.linalg.dataset.DataSet;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction1;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A round of {@code --sync gradients} as one Spark job instead of two or three a step: a barrier
 * stage of N tasks (Spark starts them together), task n being worker n and owner of shard n for
 * every step of the round. The phases of a step meet at an all-gather ({@link BarrierSync}): after
 * the gradient slices are stored, with the shards' squared norms (every task computes the clip
 * factor from them, as the driver does), and after the updated parameters are published. Each
 * message also says whether a task found its inputs lost, so that all tasks give up the round
 * together and the driver starts it again; a task that fails makes Spark end the stage's other
 * tasks and run the stage again, which starts the round from its start as well.
 * <p>
 * Spark runs a barrier stage only if all its tasks can run at once and no dynamic allocation
 * changes the executors ({@link #possible}); otherwise the trainer runs the round a job a phase.
 * A barrier stage may not read a pruned range of a shuffle's partitions, which the round's data
 * is ({@link WindowData.Rounds}), so an ordinary stage first stores each worker's minibatches as
 * a block ({@link Stage}); barrier task n prefers the executor where shard n's owner ran (its
 * state is there), else the one that holds its minibatches.
 */
final class BarrierRound {
    private static final String LOST = "lost";
    /** Barrier rounds this driver JVM ran (tests tell the two paths apart by it). */
    private static final AtomicLong ROUNDS = new AtomicLong();

    private BarrierRound() {
    }

    /** Whether Spark can run the round's N tasks at once, as a barrier stage needs. */
    static boolean possible(JavaSparkContext jsc, int workers) {
        if (jsc.getConf().getBoolean("spark.dynamicAllocation.enabled", false)) {
            return false; // Spark refuses barrier stages then
        }
        SparkContext sc = jsc.sc();
        return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile()) >= workers;
    }

    static long roundsRun() {
        return ROUNDS.get();
    }

    static void counted() {
        ROUNDS.incrementAndGet();
    }

    /** Where worker w's minibatches are, and their bytes. */
    record Staged(int worker, String location, int bytes) implements Serializable {
    }

    /** Worker w's loss at the round's last step, where it ran, or {@code lost}: the round must start again. */
    record RoundReport(int worker, double loss, boolean lost, String location) implements Serializable {
    }

    /** Staging stage, task w: the round's minibatches of worker w stored here as one block. */
    record Stage(GradientBlocks blocks, long roundStart, StorageLevel level)
            implements Function2<Integer, Iterator<DataSet>, Iterator<Staged>> {
        @Override
        public Iterator<Staged> call(Integer worker, Iterator<DataSet> minibatches) throws IOException {
            List<DataSet> all = new ArrayList<>();
            minibatches.forEachRemaining(all::add);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(all);
            }
            String name = blocks.data(roundStart, worker);
            if (!SparkBlocks.holds(name)) { // a rerun of the round stores the same minibatches
                SparkBlocks.put(name, ByteBuffer.wrap(bytes.toByteArray()), level);
            }
            return List.of(new Staged(worker, GradientStages.here(), bytes.size())).iterator();
        }
    }

    /** Barrier stage, task n: every step of the round as worker n and as owner of shard n. */
    static final class Steps extends AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<RoundReport>> implements Serializable {
        private final Step first;
        private final Broadcast<ComputationGraphConfiguration> configuration;
        private final Broadcast<List<ShardAdamW>> optimizers;
        private final double gradClip;
        private final int dataBytes;
        private final StorageLevel level;
        private final WorkerTimes times;

        Steps(Step first, Broadcast<ComputationGraphConfiguration> configuration,
              Broadcast<List<ShardAdamW>> optimizers, double gradClip, int dataBytes, StorageLevel level,
              WorkerTimes times) {
            this.first = first;
            this.configuration = configuration;
            this.optimizers = optimizers;
            this.gradClip = gradClip;
            this.dataBytes = dataBytes;
            this.level = level;
            this.times = times;
        }

        @Override
        public scala.collection.Iterator<RoundReport> apply(scala.collection.Iterator<Integer> shards) {
            int n = shards.next();
            // Not BarrierTaskContext.get(): that starts Spark's non-daemon "barrier() calls" timer
            // thread, which kept a local-mode driver's JVM from exiting after its main returned.
            RoundReport report = round(new BarrierSync((BarrierTaskContext) TaskContext.get()), n);
            return JavaConverters.asScalaIterator(List.of(report).iterator());
        }

        private RoundReport round(BarrierSync barrier, int n) {
            List<DataSet> data = minibatches(n);
            Iterator<DataSet> next = data == null ? null : data.iterator();
            double loss = Double.NaN;
            for (long s = first.roundStart() + 1; s <= first.roundEnd(); s++) {
                Step step = first.at(s);
                WorkerReport worker = next == null ? new WorkerReport(n, Double.NaN, true)
                        : new GradientStages.Gradients(step, configuration, level, times).compute(n, next);
                if (anyLost(barrier.allGather(worker.lost() ? LOST : ""))) {
                    return lost(n);
                }
                double scale = 1;
                if (gradClip > 0) {
                    OwnerReport reduced = new GradientStages.Reduce(step, times).call(n);
                    String[] norms = barrier.allGather(reduced.lost() ? LOST : Double.toString(reduced.squaredNorm()));
                    if (anyLost(norms)) {
                        return lost(n);
                    }
                    scale = GradientStages.clipScale(Arrays.stream(norms).mapToDouble(Double::parseDouble).toArray(),
                            gradClip);
                }
                OwnerReport updated = new GradientStages.Update(step, optimizers, scale, level, times).call(n);
                if (anyLost(barrier.allGather(updated.lost() ? LOST : ""))) {
                    return lost(n);
                }
                loss = worker.loss();
            }
            return new RoundReport(n, loss, false, GradientStages.here());
        }

        /** Worker n's minibatches of the round, from the staging stage's block; null if it is lost. */
        @SuppressWarnings("unchecked")
        private List<DataSet> minibatches(int n) {
            List<List<DataSet>> read = new ArrayList<>();
            boolean found = SparkBlocks.readAll(List.of(first.blocks().data(first.roundStart(), n)), dataBytes,
                    (i, block) -> {
                        ByteBuffer b = block.bytes();
                        byte[] bytes = new byte[b.remaining()];
                        b.duplicate().get(bytes);
                        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
                            read.add((List<DataSet>) in.readObject());
                        } catch (IOException | ClassNotFoundException e) {
                            throw new UncheckedIOException(new IOException("the round's minibatches: " + e, e));
                        }
                    }).join().isEmpty();
            return found ? read.get(0) : null;
        }

        private static boolean anyLost(String[] messages) {
            return Arrays.asList(messages).contains(LOST);
        }

        private static RoundReport lost(int n) {
            return new RoundReport(n, Double.NaN, true, GradientStages.here());
        }
    }
}
