package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.SparkGpt;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shaded jar, submitted to a real two-worker standalone cluster, writes the local result. */
class TokenizeOnClusterIT {
    @TempDir
    Path tmp;

    @Test
    void tokenizeOnATwoWorkerClusterWritesExactlyWhatLocalSparkWrites() throws Exception {
        Path corpus = Files.createDirectories(tmp.resolve("corpus"));
        for (int i = 0; i < 4; i++) {
            Files.copy(TokenizeJobTest.VERDICT, corpus.resolve("part-" + i + ".txt"));
        }
        String[] options = {"--input", corpus.toString(), "--format", "lines", "--shard-size-mb", "0.01",
                "--max-length", "32", "--stride", "16"};
        Path clusterOut = tmp.resolve("cluster");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state")), 2)) {
            Process submit = cluster.submit(tmp.resolve("submit.log"), concat(options, clusterOut));
            assertTrue(submit.waitFor(300, TimeUnit.SECONDS), "submission finished in time");
            assertEquals(0, submit.exitValue(), Files.readString(tmp.resolve("submit.log")));
        }
        Path localOut = tmp.resolve("local");
        System.setProperty("spark.master", "local[2]");
        try {
            assertEquals(0, SparkGpt.execute(concat(options, localOut)), "the same command on local Spark");
        } finally {
            System.clearProperty("spark.master");
        }
        SparkSession spark = LocalSpark.start();
        try {
            for (String split : new String[] {"train", "val"}) {
                List<Row> expected = windows(spark, localOut, split);
                assertTrue(expected.size() > 50, "a real dataset: " + expected.size() + " " + split + " windows");
                assertEquals(expected, windows(spark, clusterOut, split), split + " windows, cluster vs local");
            }
            assertEquals(Files.readString(localOut.resolve("dataset.json")).replace(localOut.toString(), "OUT"),
                    Files.readString(clusterOut.resolve("dataset.json")).replace(clusterOut.toString(), "OUT"),
                    "dataset.json, cluster vs local");
        } finally {
            LocalSpark.stop(spark);
        }
    }

    /** tokenize, the options, then --output. */
    private static String[] concat(String[] options, Path output) {
        List<String> all = new java.util.ArrayList<>(List.of("tokenize"));
        all.addAll(List.of(options));
        all.addAll(List.of("--output", output.toString()));
        return all.toArray(String[]::new);
    }

    static List<Row> windows(SparkSession spark, Path dataset, String split) {
        return spark.read().parquet(dataset.resolve(split).toString()).orderBy("shard", "offset").collectAsList();
    }
}
