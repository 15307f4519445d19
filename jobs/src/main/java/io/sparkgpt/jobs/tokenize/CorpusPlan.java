package io.sparkgpt.jobs.tokenize;

import java.util.List;

/**
 * The files of a corpus and the shards they are cut into.
 *
 * @param files        every input file, sorted by path
 * @param shards       the shards to tokenize (for Parquet input: empty, Spark plans the reads)
 * @param binaryFiles  large files the planner found binary and left out (small ones are found by
 *                     the tasks that read them)
 * @param totalBytes   the size of all files
 */
public record CorpusPlan(List<String> files, List<Shard> shards, List<String> binaryFiles, long totalBytes) {
}
