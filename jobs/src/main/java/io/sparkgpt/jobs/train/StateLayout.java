package io.sparkgpt.jobs.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * How one worker's synchronized state, the flat parameter vector followed by Adam's flat
 * moments (what parameter averaging averages), is cut for the block manager: {@code shards}
 * contiguous shards, one a worker slot (shard n is averaged by task n of the average stage), each
 * cut into chunks of at most {@link #CHUNK_FLOATS} floats, one block each, never across the
 * boundary of parameters and optimizer state. Chunks stay well below
 * Spark's spark.network.maxRemoteBlockSizeFetchToMem (200 MB), so fetches stay in memory.
 * The owner of the block names: {@code run} keeps two runs in one application apart.
 */
record StateLayout(String run, long params, long updater, int shards, int chunkFloats) implements Serializable {
    /** 32 MB blocks at most: few enough to count little, small enough that a task holds only a few at once. */
    static final int CHUNK_FLOATS = 8 << 20;
    /** An average task holds two chunks of every worker's slices (one summed, one arriving): 256 MB at most. */
    private static final long SCRATCH_FLOATS = 64L << 20;

    /** Floats a block for N shards: 32 MB up to 4 workers, then smaller (2 MB at 64), at least 1 MB. */
    static int chunkFloats(int shards) {
        return (int) Math.max(1 << 18, Math.min(CHUNK_FLOATS, SCRATCH_FLOATS / (2L * shards)));
    }
    private static final String PREFIX = "sparkgpt-";

    StateLayout {
        if (params + updater > (long) Integer.MAX_VALUE * 2 || params > Integer.MAX_VALUE || updater > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a flat array over 2^31 floats (" + params + " parameters, " + updater
                    + " optimizer values) cannot be addressed by ND4J's buffers here");
        }
    }

    /** Floats in the state. */
    long length() {
        return params + updater;
    }

    /** Bytes of one worker's state (4 a float). */
    long bytes() {
        return 4 * length();
    }

    long shardLength(int shard) {
        return shardStart(shard + 1) - shardStart(shard);
    }

    long shardStart(int shard) {
        return length() * shard / shards;
    }

    /** The [from, to) float ranges of shard n's chunks. */
    List<long[]> chunks(int shard) {
        List<long[]> out = new ArrayList<>();
        long end = shardStart(shard + 1);
        long from = shardStart(shard);
        while (from < end) {
            long to = Math.min(end, from + chunkFloats);
            if (from < params && to > params) {
                to = params; // each chunk in one of the two arrays: a worker's slices are views of them
            }
            out.add(new long[]{from, to});
            from = to;
        }
        return out;
    }

    /** Averaged shard n, chunk c, of round r (round 0: the state the run starts from). */
    String averaged(long round, int shard, int chunk) {
        return PREFIX + run + "-avg-" + round + "-" + shard + "-" + chunk;
    }

    /** Worker w's slice of shard n, chunk c, after training round r. */
    String slice(long round, int shard, int chunk, int worker) {
        return PREFIX + run + "-part-" + round + "-" + shard + "-" + chunk + "-" + worker;
    }

    /** The driver's copy of the starting state, read once by the seed stage. */
    String seed(int shard, int chunk) {
        return PREFIX + run + "-seed-" + shard + "-" + chunk;
    }

    /** Whether block {@code name} is one of this run's. */
    boolean owns(String name) {
        return name.startsWith(PREFIX + run + "-");
    }

    boolean isSeed(String name) {
        return name.startsWith(PREFIX + run + "-seed-");
    }

    /**
     * Whether a block of this run is no longer needed once round r trains: slices of rounds
     * before r (averaged already) and averages before r - 2. Round r reads r - 1's averages, and
     * r - 2's stay until r - 1's have a copy on every executor (the train stage makes them): if
     * one of r - 1's shards is lost before that, round r - 1 is trained again from r - 2's.
     */
    boolean obsoleteInTrain(long round, String name) {
        return isBefore(name, "-part-", round) || isBefore(name, "-avg-", round - 2);
    }

    /**
     * Whether a block of this run is no longer needed once round r is averaged: round r's train
     * stage left a copy of r - 1's averages on its executors, which a rerun of round r (lost
     * slices, or a shard of round r's averages lost before the next round copied it) reads.
     */
    boolean obsoleteInAverage(long round, String name) {
        return isBefore(name, "-part-", round) || isBefore(name, "-avg-", round - 1);
    }

    private boolean isBefore(String name, String kind, long round) {
        String prefix = PREFIX + run + kind;
        return name.startsWith(prefix) && roundOf(name, prefix) < round;
    }

    private static long roundOf(String name, String prefix) {
        int end = name.indexOf('-', prefix.length());
        return Long.parseLong(name.substring(prefix.length(), end));
    }
}
