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

/**
 * The three moves of sharded averaging, on the block manager: a network loads every averaged
 * shard (all-gather), a worker stores its state as slices, the owner of shard n averages the
 * workers' slices n (reduce-scatter). Fetches run a few at a time (BigDL does the same) so the
 * network and the copies overlap; at most {@link #IN_FLIGHT} blocks are held at once.
 */
final class ShardTransfer {
    static final int IN_FLIGHT = 4;
    private static final ExecutorService FETCHERS = Executors.newFixedThreadPool(IN_FLIGHT, r -> {
        Thread t = new Thread(r, "sparkgpt-shard-fetch");
        t.setDaemon(true);
        return t;
    });

    private ShardTransfer() {
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
     * {@code level}, a chunk at a time. Returns the workers whose slices are lost; the chunks
     * averaged before the loss was found are stored, and a rerun stores the same values.
     */
    static Set<Integer> average(StateLayout layout, long round, int shard, int workers, StorageLevel level) {
        List<long[]> chunks = layout.chunks(shard);
        for (int c = 0; c < chunks.size(); c++) {
            float[] sum = new float[Math.toIntExact(chunks.get(c)[1] - chunks.get(c)[0])];
            Set<Integer> lost = sumSlices(layout, round, shard, c, workers, sum);
            if (!lost.isEmpty()) {
                return lost;
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] /= workers;
            }
            ByteBuffer bytes = ByteBuffer.allocate(4 * sum.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(sum);
            SparkBlocks.put(layout.averaged(round, shard, c), bytes, level);
        }
        return Set.of();
    }

    private static Set<Integer> sumSlices(StateLayout layout, long round, int shard, int chunk, int workers,
                                          float[] sum) {
        Set<Integer> lost = new TreeSet<>();
        Deque<CompletableFuture<float[]>> window = new ArrayDeque<>();
        int next = 0;
        for (int w = 0; w < workers; w++) {
            while (next < workers && window.size() < IN_FLIGHT) {
                String name = layout.slice(round, shard, chunk, next++);
                window.add(CompletableFuture.supplyAsync(() -> floats(name, sum.length), FETCHERS));
            }
            float[] slice = window.poll().join();
            if (slice == null) {
                lost.add(w);
            } else {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += slice[i];
                }
            }
        }
        return lost;
    }

    private static float[] floats(String name, int length) {
        float[] out = new float[length];
        boolean found = SparkBlocks.read(name, bytes -> bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(out));
        return found ? out : null;
    }
}
