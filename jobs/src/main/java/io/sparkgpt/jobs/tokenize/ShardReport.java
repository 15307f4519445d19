package io.sparkgpt.jobs.tokenize;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one task saw in its shard: counts per split, skipped documents by reason with a few
 * examples, and the line count of each file range (so the driver can turn a line's index within
 * its range into its line number in the file).
 */
public final class ShardReport implements Serializable {
    public static final int TRAIN = 0;
    public static final int VAL = 1;
    static final int MAX_EXAMPLES = 10;

    /** A skipped document: where, and why. {@code lineInRange} is -1 for a whole file. */
    public record Problem(String path, long rangeStart, long lineInRange, String reason) implements Serializable {
    }

    /** How many lines a range held. */
    public record RangeLines(String path, long start, long lines) implements Serializable {
    }

    final int shard;
    final long[] documents = new long[2];
    final long[] tokens = new long[2];
    final long[] windows = new long[2];
    final Map<String, Long> skipped = new TreeMap<>();
    long invalidUtf8Documents;
    final List<RangeLines> rangeLines = new ArrayList<>();
    final List<Problem> examples = new ArrayList<>();

    ShardReport(int shard) {
        this.shard = shard;
    }

    void skip(String reason, String path, long rangeStart, long lineInRange) {
        skipped.merge(reason, 1L, Long::sum);
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(new Problem(path, rangeStart, lineInRange, reason));
        }
    }
}
