package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeProgressTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    /** A task that takes a moment, so that the printer runs while the job does. */
    static final class Pause implements VoidFunction<Integer> {
        @Override
        public void call(Integer x) throws InterruptedException {
            Thread.sleep(300);
        }
    }

    @Test
    void countsTheFinishedShardsOfItsOwnJobsOnlyAndPrintsWhileTheyRun() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        long[] shardBytes = {1_000_000, 3_000_000, 2_000_000, 2_000_000};
        try (TokenizeProgress progress = new TokenizeProgress(jsc.sc(), "tokenize-test", 4, 8_000_000, shardBytes,
                new PrintStream(printed, true, StandardCharsets.UTF_8), 100)) {
            assertEquals("tokenize: 0/4 shards, 0.0 of 8.0 MB read, 0.0 MB/s, ETA ?", progress.line(1));
            jsc.parallelize(List.of(1, 2, 3), 3).foreach(new Pause()); // another job: not counted
            jsc.setJobGroup("tokenize-test", "the shards", false);
            jsc.parallelize(List.of(1, 2), 2).foreach(new Pause()); // shards 0 and 1
            jsc.clearJobGroup();
            spark.sparkContext().listenerBus().waitUntilEmpty();
            assertEquals("tokenize: 2/4 shards, 4.0 of 8.0 MB read, 2.0 MB/s, ETA 0m02s", progress.line(2));
            progress.shardDone(1, 3_000_000); // a speculative copy of a shard already counted
            assertEquals("tokenize: 2/4 shards, 4.0 of 8.0 MB read, 1.0 MB/s, ETA 0m04s", progress.line(4));
        }
        String lines = printed.toString(StandardCharsets.UTF_8);
        assertTrue(lines.startsWith("tokenize: ") && lines.contains("/4 shards, "), lines);
    }
}
