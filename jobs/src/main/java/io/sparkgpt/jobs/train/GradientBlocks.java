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
 * at a round's end also its moments ({@code m-s-n-c} and {@code v-s-n-c}). The state a
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

    String firstMoments(long step, int shard, int chunk) {
        return name("m", step, shard, chunk);
    }

    String secondMoments(long step, int shard, int chunk) {
        return name("v", step, shard, chunk);
    }

    /** Shard n's kept blocks of step s: parameters, m, v, a chunk at a time. */
    private List<String> kept(long step, int shard) {
        List<String> names = new ArrayList<>();
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            names.addAll(List.of(params(step, shard, c), firstMoments(step, shard, c), secondMoments(step, shard, c)));
        }
        return names;
    }

    /** Worker w's minibatches of the round after {@code roundStart} (a barrier round's, see {@link BarrierRound}). */
    String data(long roundStart, int worker) {
        return name("data", roundStart, worker, 0);
    }

    String seed(String kind, int shard, int chunk) {
        return name("seed" + kind, 0, shard, chunk);
    }

    /** Bytes of the largest block: a chunk. */
    int maxBlockBytes() {
        return 4 * layout.chunkFloats();
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
            case "p", "m", "v" -> at < step - 1 && at != roundStart;
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
            names.add(firstMoments(step, shard, c));
            names.add(secondMoments(step, shard, c));
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

    /**
     * Shard n's parameters and moments after {@code step}, the start of the round after
     * {@code roundStart} or a step of it, into {@code a}, unless it holds them already (as its
     * current state, or as the kept blocks of one of its sides).
     */
    boolean loadOwnerState(OwnerArrays a, int shard, long step, long roundStart) {
        if (a.step == step) {
            return true;
        }
        a.step = -1;
        int kept = a.sideHolding(step);
        if (kept >= 0) {
            a.use(kept);
            a.step = step;
            return true;
        }
        int into = writableSide(a, shard, roundStart);
        boolean complete = read(a.side(into), shard, step, true);
        if (complete) {
            a.use(into);
            a.step = step;
        }
        return complete;
    }

    /** Shard n's moments after {@code step} into {@code a}'s m and v (the driver's gather: it reads the parameters whole). */
    boolean loadMoments(OwnerArrays a, int shard, long step) {
        return read(a.state(), shard, step, false);
    }

    private boolean read(ShardAdamW.State into, int shard, long step, boolean withParams) {
        List<String> names = new ArrayList<>();
        List<INDArray> targets = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            for (int kind = withParams ? 0 : 1; kind < 3; kind++) {
                names.add(kind == 0 ? params(step, shard, c) : kind == 1 ? firstMoments(step, shard, c)
                        : secondMoments(step, shard, c));
                targets.add(kind == 0 ? into.params() : kind == 1 ? into.m() : into.v());
                offsets.add(chunkOffset(shard, c));
            }
        }
        return readAll(names, (i, block) -> OwnerArrays.write(targets.get(i), offsets.get(i), block.bytes()));
    }

    /**
     * The side of {@code a} the next update of the round after {@code roundStart} writes: its
     * current one, unless kept blocks the round may still restart from are views of it (the
     * round's start; after a lost attempt, also that attempt's end), then the other. Blocks of a
     * side that are obsolete go first; a side both needed (only after a lost attempt) has its
     * blocks replaced by copies.
     */
    int writableSide(OwnerArrays a, int shard, long roundStart) {
        int side = a.held(a.current()) >= roundStart ? 1 - a.current() : a.current();
        long held = a.held(side);
        if (held >= roundStart) {
            for (String name : kept(held, shard)) {
                ByteBuffer copy = SparkBlocks.localCopy(name);
                SparkBlocks.removeLocal(name::equals);
                SparkBlocks.putPooled(name, copy, StorageLevel.MEMORY_AND_DISK_SER());
            }
        } else if (held >= 0) {
            SparkBlocks.removeLocal(kept(held, shard)::contains);
        }
        a.hold(side, -1);
        return side;
    }

    /**
     * Publishes shard n's state after {@code step}, as views of the owner's current side: its
     * parameters, and with {@code kept} (a round's last step: the next round starts from it) its
     * moments too; the next update changes the parameters only after every worker has read them
     * (its gradient stage ran first), and leaves a kept side alone ({@link #writableSide}). An
     * owner that is not the one of the step before finds no moments then, and the round starts
     * again from its start.
     */
    void storeOwnerState(OwnerArrays a, int shard, long step, boolean kept, StorageLevel level) {
        ShardAdamW.State state = a.state();
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            int bytes = 4 * chunkLength(shard, c);
            long at = 4 * chunkOffset(shard, c);
            publish(params(step, shard, c), state.params(), at, bytes, level);
            if (kept) {
                publish(firstMoments(step, shard, c), state.m(), at, bytes, level);
                publish(secondMoments(step, shard, c), state.v(), at, bytes, level);
            }
        }
        if (kept) {
            a.hold(a.current(), step);
        }
        a.step = step;
    }

    private static void publish(String name, INDArray array, long at, int bytes, StorageLevel level) {
        SparkBlocks.putView(name, BlockMemory.view(FlatState.bytes(array), at, bytes), array, level);
    }

    /** The driver's seed blocks of shard n and the blocks the seed stage copies them to (the state after {@code step}). */
    void seedNames(long step, int shard, List<String> from, List<String> to) {
        for (int c = 0; c < layout.chunks(shard).size(); c++) {
            from.add(seed("p", shard, c));
            to.add(params(step, shard, c));
            from.add(seed("m", shard, c));
            to.add(firstMoments(step, shard, c));
            from.add(seed("v", shard, c));
            to.add(secondMoments(step, shard, c));
        }
    }
}
