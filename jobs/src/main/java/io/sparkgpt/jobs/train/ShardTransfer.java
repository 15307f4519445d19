package io.sparkgpt.jobs.train;

import org.apache.spark.storage.StorageLevel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * The moves of sharded averaging, on the block manager: a worker stores its state as slices,
 * the owner of shard n averages the workers' slices n (reduce-scatter), the next round's workers
 * load every averaged shard and keep a copy (all-gather). Blocks live outside the Java heap, in
 * memory reused every round (see {@link BlockMemory}): tens of 32 MB heap arrays a round would keep
 * G1 marking the heap without end, and new native memory a round costs its page faults.
 */
final class ShardTransfer {
    /** One thread storing averaged chunks (and their copies) while the next chunk is summed or fetched. */
    private static final ExecutorService PUTTER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sparkgpt-shard-put");
        t.setDaemon(true);
        return t;
    });
    private static final int ATTEMPTS = 3;

    private ShardTransfer() {
    }

    /**
     * Writes round r's averaged state, every shard and chunk, into {@code state}; false if a chunk
     * is on no live executor (every copy was lost with its executor). With {@code copies} set (a
     * train task), every chunk fetched from another executor is also kept here at that level:
     * the all-gather, done by the next round's load, so that once a round's train stage is done
     * its averages have a copy on every executor that trained.
     */
    static boolean loadAveraged(FlatState state, StateLayout layout, long round, StorageLevel copies) {
        List<String> names = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                names.add(layout.averaged(round, n, c));
                starts.add(chunks.get(c)[0]);
            }
        }
        List<CompletableFuture<Void>> puts = new ArrayList<>();
        try {
            // A copy may vanish with its executor mid-fetch; the master then knows the others.
            for (int attempt = 1; !names.isEmpty(); attempt++) {
                if (attempt > ATTEMPTS) {
                    return false;
                }
                List<String> wanted = names;
                List<Long> from = starts;
                Set<Integer> missing = SparkBlocks.readAll(wanted, 4 * layout.chunkFloats(), (i, block) -> {
                    state.write(from.get(i), block.bytes());
                    if (copies != null && !SparkBlocks.holds(wanted.get(i))) {
                        keepCopy(wanted.get(i), block.keep(), copies, puts);
                    }
                }).join();
                List<Integer> lost = new ArrayList<>(new TreeSet<>(missing));
                names = lost.stream().map(wanted::get).collect(Collectors.toList());
                starts = lost.stream().map(from::get).collect(Collectors.toList());
            }
            return true;
        } finally {
            synchronized (puts) {
                puts.forEach(CompletableFuture::join);
            }
        }
    }

    /** Stores {@code copy} (pooled, handed over) as block {@code name}, on the putter thread. */
    private static void keepCopy(String name, ByteBuffer copy, StorageLevel level, List<CompletableFuture<Void>> puts) {
        synchronized (puts) {
            puts.add(CompletableFuture.runAsync(() -> SparkBlocks.putPooled(name, copy, level), PUTTER));
        }
    }

    /**
     * Stores worker w's state after round r as one slice a shard and chunk, in this JVM's block
     * manager, as views of its network's memory (no copy): the network must not change until the
     * slices are gone, so it is given back to {@link WorkerNetworks} pinned by the names returned.
     * Slices are never replicated: a lost one is recomputed by training its worker's round again.
     */
    static List<String> storeSlices(FlatState state, StateLayout layout, long round, int worker, StorageLevel level) {
        List<String> names = new ArrayList<>();
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                String name = layout.slice(round, n, c, worker);
                SparkBlocks.putView(name, state.view(chunks.get(c)[0], chunks.get(c)[1]), state.network(), level);
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Averages shard n of round r over the workers (sum in worker order 0..N-1, then divide by N:
     * what dl4j-spark's averaging computes, and the same on every run) and stores it at
     * {@code level}, a chunk at a time: chunk c + 1's slices are fetched while chunk c is summed,
     * and a chunk's average is stored while the next is summed. Returns the workers whose slices
     * are lost; chunks averaged before the loss was found are stored, and a rerun stores the same values.
     * The slices are summed where they arrived (pooled native memory, see {@link #mean}): copying
     * them into Java arrays first cost more than the sums (measured 20 against 8 ms a 32 MB chunk).
     */
    static Set<Integer> average(StateLayout layout, long round, int shard, int workers, StorageLevel level) {
        List<long[]> chunks = layout.chunks(shard);
        ByteBuffer[][] slices = {new ByteBuffer[workers], new ByteBuffer[workers]};
        boolean[][] pooled = {new boolean[workers], new boolean[workers]};
        Set<Integer> lost = new TreeSet<>();
        CompletableFuture<Void> stored = CompletableFuture.completedFuture(null);
        CompletableFuture<Set<Integer>> next = null;
        try {
            next = fetchSlices(layout, round, shard, 0, workers, slices[0], pooled[0]);
            for (int c = 0; c < chunks.size(); c++) {
                Set<Integer> missing = next.join();
                next = c + 1 < chunks.size() ? fetchSlices(layout, round, shard, c + 1, workers, slices[(c + 1) % 2],
                        pooled[(c + 1) % 2])
                        : null;
                if (!missing.isEmpty()) {
                    lost.addAll(missing);
                    break;
                }
                ByteBuffer average = mean(slices[c % 2], Math.toIntExact(chunks.get(c)[1] - chunks.get(c)[0]));
                giveBack(slices[c % 2], pooled[c % 2]);
                stored.join();
                String name = layout.averaged(round, shard, c);
                stored = CompletableFuture.runAsync(() -> SparkBlocks.putPooled(name, average, level), PUTTER);
            }
        } finally {
            // No fetch may still write into the buffers once they are given back.
            if (next != null) {
                next.exceptionally(e -> null).join();
            }
            stored.join();
            giveBack(slices[0], pooled[0]);
            giveBack(slices[1], pooled[1]);
        }
        return lost;
    }

    /**
     * Fetches chunk c of every worker's slice n into {@code into}: pooled buffers, the caller's, or
     * for a slice stored here, the slice itself. That is its worker's network memory, which stays
     * pinned (see {@link #storeSlices}) until the slice is removed, and slices of round r are
     * removed only by later rounds' sweeps: summing it in place saves a copy of every local chunk.
     */
    static CompletableFuture<Set<Integer>> fetchSlices(StateLayout layout, long round, int shard, int chunk,
                                                               int workers, ByteBuffer[] into, boolean[] pooled) {
        List<String> names = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            names.add(layout.slice(round, shard, chunk, w));
        }
        return SparkBlocks.readAll(names, 4 * layout.chunkFloats(), (w, block) -> {
            pooled[w] = !block.local();
            into[w] = block.local() ? block.bytes() : block.keep();
        });
    }

    /**
     * The mean of the workers' slices (little-endian floats) in a pooled buffer: ((s0 + s1) + s2
     * ...) / N element by element, so the bits do not depend on the number of passes. A pass adds
     * one slice over the whole chunk: loops over float buffers of native order, which the JIT
     * compiles to vector code, where a loop over the workers inside would not be.
     */
    static ByteBuffer mean(ByteBuffer[] slices, int floats) {
        ByteBuffer bytes = BlockMemory.take(4 * floats);
        sumDivided(slices, floats, slices.length, bytes.asFloatBuffer());
        return bytes;
    }

    /**
     * out[i] = (((s0[i] + s1[i]) + s2[i]) ...) / divisor: the workers' slices (little-endian
     * floats) summed in worker order, then divided once, as DL4J divides a summed gradient by the
     * batch size. A pass adds one slice over the whole chunk: loops over float buffers of native
     * order, which the JIT compiles to vector code, where a loop over the workers inside would not be.
     */
    static void sumDivided(ByteBuffer[] slices, int floats, float divisor, FloatBuffer out) {
        int workers = slices.length;
        FloatBuffer first = floats(slices[0]);
        if (workers == 1) {
            for (int i = 0; i < floats; i++) {
                out.put(i, first.get(i) / divisor);
            }
            return;
        }
        FloatBuffer second = floats(slices[1]);
        if (workers == 2) {
            for (int i = 0; i < floats; i++) {
                out.put(i, (first.get(i) + second.get(i)) / divisor);
            }
            return;
        }
        for (int i = 0; i < floats; i++) {
            out.put(i, first.get(i) + second.get(i));
        }
        for (int w = 2; w < workers - 1; w++) {
            FloatBuffer slice = floats(slices[w]);
            for (int i = 0; i < floats; i++) {
                out.put(i, out.get(i) + slice.get(i));
            }
        }
        FloatBuffer last = floats(slices[workers - 1]);
        for (int i = 0; i < floats; i++) {
            out.put(i, (out.get(i) + last.get(i)) / divisor);
        }
    }

    private static FloatBuffer floats(ByteBuffer littleEndian) {
        return littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    static void giveBack(ByteBuffer[] slices, boolean[] pooled) {
        for (int w = 0; w < slices.length; w++) {
            if (slices[w] != null && pooled[w]) {
                BlockMemory.giveBack(slices[w]);
            }
            slices[w] = null;
        }
    }
}
