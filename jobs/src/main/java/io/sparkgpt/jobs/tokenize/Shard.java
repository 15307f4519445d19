package io.sparkgpt.jobs.tokenize;

import java.io.Serializable;
import java.util.List;

/**
 * The unit of tokenization: a list of file byte ranges read by one task, in order, into one
 * token stream. Shards depend only on the corpus and the shard size, never on the cluster.
 */
public record Shard(int index, List<FileRange> ranges) implements Serializable {

    /** The input bytes the shard reads. */
    public long bytes() {
        return ranges.stream().mapToLong(r -> r.end() - r.start()).sum();
    }

    /** Bytes [start, end) of a file: the lines that start in the range belong to it. */
    public record FileRange(String path, long start, long end, long fileLength) implements Serializable {
        public boolean wholeFile() {
            return start == 0 && end == fileLength;
        }
    }
}
