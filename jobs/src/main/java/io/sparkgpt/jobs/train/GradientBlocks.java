package io.sparkgpt.jobs.train;

import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * The blocks of {@code --sync gradients} and the moves between them. The flat parameter vector
 * is cut into shards and chunks by a {@link StateLayout} without optimizer part. Per step s:
 * worker w's gradient slices ({@code part-s-n-c-w}) and shard n's parameters ({@code p-s-n-c});
 * at a round's end also its moments ({@code m-s-n-c}: chunk c of m, then of v). The state a
 * round starts from gets a second copy on another executor in the round's first gradient stage
 * (every parameter shard on every worker's executor, the all-gather's copies; worker w's
 * executor also copies shard w + 1's moments): what a round restarts from after an executor is
 * lost. (Spark's put-time replication deadlocked here: two executors replicating to each other
 * at once timed out connecting.)
 */
record GradientBlocks(StateLayout layout) implements Serializable {
    private static final int ATTEMPTS = 3;

    String run() {
        return layout.run();
    }

    private String name(String kind, long step, int shard, int chunk) {
        return "sparkgpt-" + layout.run() + "-" + kind + "-" + step + "-" + shard + "-" + chunk;
    }

    String params(long step, int shard, int chunk) {
        return name("p", step, shard, chunk);
    }

    String moments(long step, int shard, int chunk) {
        return name("m", step, shard, chunk);
    }

    /** Worker w's minibatches of the round after {@code roundStart} (a barrier round's, see {@link BarrierRound}). */
    String data(long roundStart, int worker) {
        return name("data", roundStart, worker, 0);
    }

    String seed(String kind, int shard, int chunk) {
        return name("seed" + kind, 0, shard, chunk);
    }

    /** Bytes of the largest block: a moments chunk. */
    int maxBlockBytes() {
        return 8 * layout.chunkFloats();
    }

    long chunkOffset(int shard, int chunk) {
        return layout.chunks(shard).get(chunk)[0] - layout.shardStart(shard);
    }

    private int chunkLength(int shard, int chunk) {
        long[] c = layout.chunks(shard).get(chunk);
        return Math.toIntExact(c[1] - c[0]);
    }

    /**
     * Whether block {@code name} is no longer needed once step s of the round after
     * {@code roundStart} runs: slices and sums of earlier steps, parameters and moments older
     * than step s - 1 except the round's start (a restart of the round reads those).
     */
    boolean obsolete(long step, long roundStart, String name) {
        String prefix = "sparkgpt-" + layout.run() + "-";
        if (!name.startsWith(prefix)) {
            return false;
        }
        String[] parts = name.substring(prefix.length()).split("-");
        if (parts.length < 2 || parts[0].startsWith("seed")) {
            return false;
        }
        long at = Long.parseLong(parts[1]);
        return switch (parts[0]) {
            case "part" -> at < step;
            case "data" -> at < roundStart;
            case "p", "m" -> at < step - 1 && at != roundStart;
            default -> false;
        };
    }

    /** Reads blocks (retrying copies lost mid-fetch); false if one is on no live executor. */
    private boolean readAll(List<String> names, BiConsumer<Integer, FetchedBlock> reader) {
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            pending.add(i);
        }
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            if (attempt > ATTEMPTS) {
                return false;
            }
            List<Integer> wanted = pending;
            Set<Integer> missing = SparkBlocks.readAll(wanted.stream().map(names::get).collect(Collectors.toList()),
                    maxBlockBytes(), (i, block) -> reader.accept(wanted.get(i), block)).join();
            pending = new TreeSet<>(missing).stream().map(wanted::get).collect(Collectors.toList());
        }
        return true;
    }

    /**
     * All-gather: every shard's parameters after {@code step} into the network's flat parameters;
     * with {@code copies} set, each block fetched from another executor is also kept here.
     */
    boolean loadParams(FlatState state, long step, StorageLevel copies) {
        List<String> names = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                names.add(params(step, n, c));
                starts.add(chunks.get(c)[0]);
            }
        }
        return readAll(names, (i, block) -> {
            state.write(starts.get(i), block.bytes());
            keepCopy(names.get(i), block, copies);
        });
    }

    /** Keeps a copy here of shard n's moments after {@code step} (unless they are here already); false if lost. */
    boolean copyMoments(int shard, long step, StorageLevel level) {
        List<String> names = new ArrayList<>();
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            names.add(moments(step, shard, c));
        }
        if (names.stream().allMatch(SparkBlocks::holds)) {
            return true;
        }
        return readAll(names, (i, block) -> keepCopy(names.get(i), block, level));
    }

    private static void keepCopy(String name, FetchedBlock block, StorageLevel level) {
        if (level != null && !block.local() && !SparkBlocks.holds(name)) {
            SparkBlocks.putPooled(name, block.keep(), level);
        }
    }

    /** Stores a worker's summed gradient as one slice a shard and chunk: views of {@code gradient}'s memory. */
    List<String> storeSlices(ByteBuffer gradient, long step, int worker, StorageLevel level) {
        List<String> names = new ArrayList<>();
        for (int n = 0; n < layout.shards(); n++) {
            List<long[]> chunks = layout.chunks(n);
            for (int c = 0; c < chunks.size(); c++) {
                String name = layout.slice(step, n, c, worker);
                long[] range = chunks.get(c);
                SparkBlocks.putView(name, BlockMemory.view(gradient, 4 * range[0], Math.toIntExact(4 * (range[1]
                        - range[0]))), gradient, level);
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Shard n's slices of every worker, a chunk at a time, summed in worker order and divided by
     * the global batch (DL4J's batch mean) into {@code gradient} ([shard length]); false if a
     * worker's slices are lost.
     */
    boolean sumSlices(long step, int shard, int workers, int globalBatch, INDArray gradient) {
        ByteBuffer[] slices = new ByteBuffer[workers];
        boolean[] pooled = new boolean[workers];
        FloatBuffer out = FlatState.bytes(gradient).asFloatBuffer();
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            try {
                if (!ShardTransfer.fetchSlices(layout, step, shard, c, workers, slices, pooled).join().isEmpty()) {
                    return false;
                }
                int floats = chunkLength(shard, c);
                ShardTransfer.sumDivided(slices, floats, globalBatch, out.slice(Math.toIntExact(chunkOffset(shard, c)),
                        floats));
            } finally {
                ShardTransfer.giveBack(slices, pooled);
            }
        }
        return true;
    }

    /** Shard n's parameters and moments after {@code step} into {@code a}, unless it holds them already. */
    boolean loadOwnerState(OwnerArrays a, int shard, long step) {
        if (a.step == step) {
            return true;
        }
        a.step = -1;
        boolean complete = read(a, shard, step, true);
        if (complete) {
            a.step = step;
        }
        return complete;
    }

    /** Shard n's moments after {@code step} into {@code a}'s m and v (the driver's gather: it reads the parameters whole). */
    boolean loadMoments(OwnerArrays a, int shard, long step) {
        return read(a, shard, step, false);
    }

    private boolean read(OwnerArrays a, int shard, long step, boolean withParams) {
        List<String> names = new ArrayList<>();
        int chunks = layout.chunks(shard).size();
        for (int c = 0; c < chunks && withParams; c++) {
            names.add(params(step, shard, c));
        }
        int first = names.size();
        for (int c = 0; c < chunks; c++) {
            names.add(moments(step, shard, c));
        }
        return readAll(names, (i, block) -> {
            long at = chunkOffset(shard, i < first ? i : i - first);
            ByteBuffer bytes = block.bytes();
            if (i < first) {
                OwnerArrays.write(a.params(), at, bytes);
            } else {
                int half = bytes.remaining() / 2;
                OwnerArrays.write(a.m(), at, bytes.duplicate().limit(bytes.position() + half));
                OwnerArrays.write(a.v(), at, bytes.duplicate().position(bytes.position() + half));
            }
        });
    }

    /**
     * Publishes shard n's state after {@code step}: with {@code kept} (a round's last step: the
     * next round starts from it) copies of its parameters and moments; otherwise its parameters
     * alone, as views of the owner's arrays, which the next step's update changes only after
     * every worker has read them (its gradient stage ran first). An owner that is not the one
     * of the step before finds no moments then, and the round starts again from its start.
     */
    void storeOwnerState(OwnerArrays a, int shard, long step, boolean kept, StorageLevel level) {
        ByteBuffer params = FlatState.bytes(a.params());
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            int floats = chunkLength(shard, c);
            long at = chunkOffset(shard, c);
            if (!kept) {
                SparkBlocks.putView(params(step, shard, c), BlockMemory.view(params, 4 * at, 4 * floats), a.params(),
                        level);
                continue;
            }
            ByteBuffer p = BlockMemory.take(4 * floats);
            OwnerArrays.read(a.params(), at, floats, p);
            SparkBlocks.putPooled(params(step, shard, c), p.flip(), level);
            ByteBuffer mv = BlockMemory.take(8 * floats);
            OwnerArrays.read(a.m(), at, floats, mv);
            OwnerArrays.read(a.v(), at, floats, mv);
            SparkBlocks.putPooled(moments(step, shard, c), mv.flip(), level);
        }
        a.step = step;
    }

    /** The driver's seed blocks of shard n and the blocks the seed stage copies them to (the state after {@code step}). */
    void seedNames(long step, int shard, List<String> from, List<String> to) {
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            from.add(seed("p", shard, c));
            to.add(params(step, shard, c));
            from.add(seed("m", shard, c));
            to.add(moments(step, shard, c));
        }
    }
}
