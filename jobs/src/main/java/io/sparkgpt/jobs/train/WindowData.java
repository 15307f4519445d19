package io.sparkgpt.jobs.train;

import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.api.java.function.PairFunction;
import org.apache.spark.rdd.PartitionPruningRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The training windows, cached on the executors with a stable index each (their order in the
 * dataset: shard, then offset), and the RDD of one averaging round: exactly the round's windows,
 * one partition a worker, in the round's order, batched as the workers will train on them.
 * A classification dataset's examples take the windows' place: each is held as its T ids
 * followed by its length and label ({@link #toDataSet}).
 */
public final class WindowData {
    private final JavaPairRDD<Long, int[]> indexed;
    private final long count;
    private final boolean classification;

    private WindowData(JavaPairRDD<Long, int[]> indexed, long count, boolean classification) {
        this.indexed = indexed;
        this.count = count;
        this.classification = classification;
    }

    /** Reads DIR/SPLIT and caches it, indexed. */
    public static WindowData load(SparkSession spark, DatasetInfo dataset, String split) {
        boolean labeled = dataset.classification();
        JavaRDD<Row> rows = spark.read().parquet(dataset.directory() + "/" + split)
                .orderBy(DatasetFormat.SHARD, DatasetFormat.OFFSET)
                .select(DatasetFormat.TOKENS, labeled ? new String[] {DatasetFormat.LENGTH, DatasetFormat.LABEL}
                        : new String[0]).javaRDD();
        JavaPairRDD<Long, int[]> indexed = rows.zipWithIndex().mapToPair(new IndexWindow(dataset.tokenBytes()))
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        return new WindowData(indexed, indexed.count(), labeled);
    }

    public boolean classification() {
        return classification;
    }

    public long count() {
        return count;
    }

    /** The windows with these indices, collected in this order (small samples, for evaluation). */
    public List<int[]> collect(int[] indices) {
        Map<Long, int[]> found = new HashMap<>(indexed.filter(new Wanted(ranksOf(indices))).collectAsMap());
        List<int[]> out = new ArrayList<>();
        for (int i : indices) {
            out.add(found.get((long) i));
        }
        return out;
    }

    /**
     * One round: {@code workers} partitions of {@code perWorker} windows, as DataSets of {@code batch}.
     * A window in two places of the round (two epochs meet inside it) is in both.
     */
    public JavaRDD<DataSet> round(int[] indices, int workers, int perWorker, int batch) {
        return rounds(List.of(indices), workers, perWorker, batch).round(0);
    }

    /**
     * Consecutive rounds from one shuffle (one Spark stage for all of them, run with the first
     * round's job; the later rounds read its output): measured ~0.1 s a round when every round
     * had its own, as much as a round's averaging on two workers.
     */
    public Rounds rounds(List<int[]> rounds, int workers, int perWorker, int batch) {
        int[] all = new int[rounds.size() * workers * perWorker];
        for (int k = 0; k < rounds.size(); k++) {
            if (rounds.get(k).length != workers * perWorker) {
                throw new IllegalArgumentException("round " + k + " has " + rounds.get(k).length + " windows, not "
                        + workers + " x " + perWorker);
            }
            System.arraycopy(rounds.get(k), 0, all, k * workers * perWorker, workers * perWorker);
        }
        Map<Long, int[]> ranks = ranksOf(all);
        JavaRDD<int[]> byWorker = indexed.filter(new Wanted(ranks)).flatMapToPair(new ByRank(ranks))
                .repartitionAndSortWithinPartitions(new WorkerPartitioner(rounds.size() * workers, perWorker))
                .values();
        return new Rounds(byWorker, rounds.size(), workers, batch, classification);
    }

    /** Rounds prepared by one shuffle: round k is partitions [k N, (k + 1) N) of its output, N the workers. */
    public static final class Rounds {
        private final JavaRDD<int[]> byWorker;
        private final int count;
        private final int workers;
        private final int batch;
        private final boolean classification;

        private Rounds(JavaRDD<int[]> byWorker, int count, int workers, int batch, boolean classification) {
            this.byWorker = byWorker;
            this.count = count;
            this.workers = workers;
            this.batch = batch;
            this.classification = classification;
        }

        public int count() {
            return count;
        }

        /** Round k of these: partition w is worker w's windows, as DataSets of the batch size. */
        public JavaRDD<DataSet> round(int k) {
            if (k < 0 || k >= count) {
                throw new IndexOutOfBoundsException("round " + k + " of " + count);
            }
            PartitionPruningRDD<int[]> pruned = PartitionPruningRDD.create(byWorker.rdd(),
                    new PartitionRange(k * workers, (k + 1) * workers));
            return new JavaRDD<>(pruned, byWorker.classTag()).mapPartitions(new ToDataSets(batch, classification), true);
        }
    }

    /** Partitions [from, to): shipped with the pruned RDD's dependency, so a named serializable function. */
    static final class PartitionRange extends AbstractFunction1<Object, Object> implements Serializable {
        private final int from;
        private final int to;

        PartitionRange(int from, int to) {
            this.from = from;
            this.to = to;
        }

        @Override
        public Object apply(Object partition) {
            int p = (Integer) partition;
            return p >= from && p < to;
        }
    }

    /** Window index to its positions in {@code indices} (a window may have several). */
    private static Map<Long, int[]> ranksOf(int[] indices) {
        Map<Long, int[]> ranks = new HashMap<>();
        for (int rank = 0; rank < indices.length; rank++) {
            int[] before = ranks.getOrDefault((long) indices[rank], new int[0]);
            int[] now = Arrays.copyOf(before, before.length + 1);
            now[before.length] = rank;
            ranks.put((long) indices[rank], now);
        }
        return ranks;
    }

    /**
     * Inputs [rows, T] and targets [rows, T] of windows of T + 1 ids; or of classification
     * examples, T ids then length and label (targets scored at the last real token only).
     */
    public static DataSet toDataSet(List<int[]> windows, boolean classification) {
        int t = windows.get(0).length - (classification ? 2 : 1);
        float[][] x = new float[windows.size()][t];
        float[][] y = new float[windows.size()][t];
        for (int r = 0; r < windows.size(); r++) {
            int[] w = windows.get(r);
            if (classification) {
                DatasetFormat.classificationExample(w, w[t], w[t + 1], x[r], y[r]);
            } else {
                DatasetFormat.example(w, 0, x[r], y[r]);
            }
        }
        return new DataSet(Nd4j.create(x), Nd4j.create(y));
    }

    public DataSet toDataSet(List<int[]> windows) {
        return toDataSet(windows, classification);
    }

    static final class IndexWindow implements PairFunction<Tuple2<Row, Long>, Long, int[]> {
        private final int tokenBytes;

        IndexWindow(int tokenBytes) {
            this.tokenBytes = tokenBytes;
        }

        @Override
        public Tuple2<Long, int[]> call(Tuple2<Row, Long> t) {
            int[] ids = DatasetFormat.decode((byte[]) t._1().get(0), tokenBytes);
            if (t._1().size() == 3) {                                        // an example: append length and label
                ids = Arrays.copyOf(ids, ids.length + 2);
                ids[ids.length - 2] = t._1().getInt(1);
                ids[ids.length - 1] = t._1().getInt(2);
            }
            return new Tuple2<>(t._2(), ids);
        }
    }

    static final class Wanted implements Function<Tuple2<Long, int[]>, Boolean> {
        private final Map<Long, int[]> rank;

        Wanted(Map<Long, int[]> rank) {
            this.rank = rank;
        }

        @Override
        public Boolean call(Tuple2<Long, int[]> t) {
            return rank.containsKey(t._1());
        }
    }

    static final class ByRank implements PairFlatMapFunction<Tuple2<Long, int[]>, Integer, int[]> {
        private final Map<Long, int[]> ranks;

        ByRank(Map<Long, int[]> ranks) {
            this.ranks = ranks;
        }

        @Override
        public Iterator<Tuple2<Integer, int[]>> call(Tuple2<Long, int[]> t) {
            List<Tuple2<Integer, int[]>> out = new ArrayList<>();
            for (int rank : ranks.get(t._1())) {
                out.add(new Tuple2<>(rank, t._2()));
            }
            return out.iterator();
        }
    }

    /** Rank r goes to worker r / perWorker: each worker gets a contiguous run of the round. */
    static final class WorkerPartitioner extends Partitioner {
        private final int workers;
        private final int perWorker;

        WorkerPartitioner(int workers, int perWorker) {
            this.workers = workers;
            this.perWorker = perWorker;
        }

        @Override
        public int numPartitions() {
            return workers;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key / perWorker;
        }
    }

    static final class ToDataSets implements FlatMapFunction<Iterator<int[]>, DataSet> {
        private final int batch;
        private final boolean classification;

        ToDataSets(int batch, boolean classification) {
            this.batch = batch;
            this.classification = classification;
        }

        @Override
        public Iterator<DataSet> call(Iterator<int[]> windows) {
            List<DataSet> out = new ArrayList<>();
            List<int[]> current = new ArrayList<>();
            while (windows.hasNext()) {
                current.add(windows.next());
                if (current.size() == batch) {
                    out.add(toDataSet(current, classification));
                    current = new ArrayList<>();
                }
            }
            return out.iterator();
        }
    }
}
