package io.sparkgpt.jobs.tokenize;

/**
 * One document of a corpus. The id is stable across runs and cluster layouts (file path and
 * byte offset of its line, or shard and ordinal for Parquet input) and decides its split.
 */
public record Document(String id, String text) {
}
