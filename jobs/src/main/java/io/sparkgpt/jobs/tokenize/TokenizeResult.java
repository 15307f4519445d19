package io.sparkgpt.jobs.tokenize;

/** What a tokenize run produced: where, and the manifest written there. */
public record TokenizeResult(String output, DatasetManifest manifest, double seconds) {
}
