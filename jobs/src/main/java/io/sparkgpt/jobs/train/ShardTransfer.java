package io.sparkgpt.jobs.train;

import org.apache.spark.storage.StorageLevel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * The three moves of sharded averaging, on the block manager: a network loads every averaged
 * shard (all-gather), a worker stores its state as slices, the owner of shard n averages the
 * workers' slices n (reduce-scatter). Fetches run a few at a time (BigDL does the same) so the
 * network and the copies overlap; at most {@link #IN_FLIGHT} blocks are held at once.
 */
final class ShardTransfer {
    static final int IN_FLIGHT = 4;
    private static final ExecutorService FETCHERS = Executors.newFixedThreadPool(IN_FLIGHT, daemon("fetch"));
    /** One thread storing averaged chunks (and replicating them) while the next chunk is summed. */
    private static final ExecutorService PUTTER = Executors.newSingleThreadExecutor(daemon("put"));

    private ShardTransfer() {
    }

    private static ThreadFactory daemon(String what) {
        return r -> {
            Thread t = new Thread(r, "sparkgpt-shard-" + what);
            t.setDaemon(true);
            return t;
        };
    }

    /** Writes round r's averaged state, every shard and chunk, into {@code state}. */
    static void loadAveraged(FlatState state, StateLayout layout, long round) {
        List<CompletableFuture<Void>> copies = new ArrayList<>();
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                String name = layout.averaged(round, n, c);
                long from = chunks.get(c)[0];
                copies.add(CompletableFuture.runAsync(() -> {
                    if (!SparkBlocks.read(name, bytes -> state.write(from, bytes))) {
                        throw new IllegalStateException("block " + name + " (round " + round + "'s averaged state) "
                                + "is on no live executor: both copies were lost; resume the run from its last "
                                + "checkpoint (--resume)");
                    }
                }, FETCHERS));
            }
        }
        CompletableFuture.allOf(copies.toArray(CompletableFuture[]::new)).join();
    }

    /**
     * Stores worker w's state after round r as one slice a shard and chunk, in this JVM's block
     * manager. Slices are never replicated: a lost one is recomputed by training its worker's round again.
     */
    static void storeSlices(FlatState state, StateLayout layout, long round, int worker, StorageLevel level) {
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                SparkBlocks.put(layout.slice(round, n, c, worker), state.read(chunks.get(c)[0], chunks.get(c)[1]),
                        level);
            }
        }
    }

    /**
     * Averages shard n of round r over the workers (sum in worker order 0..N-1, then divide by N:
     * what dl4j-spark's averaging computes, and the same on every run) and stores it at
     * {@code level}, a chunk at a time. Slices are fetched {@link #IN_FLIGHT} ahead, across
     * chunks, and a chunk's average is stored (and replicated) while the next one is summed.
     * Returns the workers whose slices are lost; chunks averaged before the loss was found are
     * stored, and a rerun stores the same values.
     */
    static Set<Integer> average(StateLayout layout, long round, int shard, int workers, StorageLevel level) {
        List<long[]> chunks = layout.chunks(shard);
        SliceFetches fetches = new SliceFetches(layout, round, shard, workers);
        Deque<CompletableFuture<Void>> puts = new ArrayDeque<>();
        Set<Integer> lost = new TreeSet<>();
        try {
            for (int c = 0; c < chunks.size() && lost.isEmpty(); c++) {
                float[] sum = null;
                for (int w = 0; w < workers; w++) {
                    float[] slice = fetches.next();
                    if (slice == null) {
                        lost.add(w);
                    } else if (sum == null) {
                        sum = slice; // 0 + a is a: the sum starts as the first slice
                    } else {
                        for (int i = 0; i < sum.length; i++) {
                            sum[i] += slice[i];
                        }
                    }
                }
                if (lost.isEmpty()) {
                    while (puts.size() >= 2) {
                        puts.poll().join();
                    }
                    puts.add(storeAverage(layout.averaged(round, shard, c), sum, workers, level));
                }
            }
        } finally {
            fetches.drain();
            puts.forEach(CompletableFuture::join);
        }
        return lost;
    }

    private static CompletableFuture<Void> storeAverage(String name, float[] sum, int workers, StorageLevel level) {
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= workers;
        }
        ByteBuffer bytes = ByteBuffer.allocate(4 * sum.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(sum);
        return CompletableFuture.runAsync(() -> SparkBlocks.put(name, bytes, level), PUTTER);
    }

    /** Shard n's slices in (chunk, worker) order, fetched a few ahead; null for a lost one. */
    private static final class SliceFetches {
        private final StateLayout layout;
        private final long round;
        private final int shard;
        private final int workers;
        private final int total;
        private final Deque<CompletableFuture<float[]>> window = new ArrayDeque<>();
        private int requested;

        SliceFetches(StateLayout layout, long round, int shard, int workers) {
            this.layout = layout;
            this.round = round;
            this.shard = shard;
            this.workers = workers;
            this.total = layout.chunks(shard).size() * workers;
        }

        float[] next() {
            while (requested < total && window.size() < IN_FLIGHT) {
                long[] chunk = layout.chunks(shard).get(requested / workers);
                String name = layout.slice(round, shard, requested / workers, requested % workers);
                int length = Math.toIntExact(chunk[1] - chunk[0]);
                window.add(CompletableFuture.supplyAsync(() -> floats(name, length), FETCHERS));
                requested++;
            }
            return window.poll().join();
        }

        void drain() {
            window.forEach(f -> f.exceptionally(e -> null).join());
        }
    }

    private static float[] floats(String name, int length) {
        float[] out = new float[length];
        boolean found = SparkBlocks.read(name, bytes -> bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(out));
        return found ? out : null;
    }
}
