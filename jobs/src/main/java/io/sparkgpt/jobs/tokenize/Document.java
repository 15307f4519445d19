package io.sparkgpt.jobs.tokenize;

/**
 * One document of a corpus, with its stable identity, which decides its split: the hash of its
 * source (file path, or Parquet shard) and its position there (byte offset of its line, or row).
 */
public record Document(long sourceHash, long position, String text) {
}
