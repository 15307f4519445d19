package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.MiniHadoop;
import io.sparkgpt.jobs.YarnCluster;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar on real HDFS and YARN (Hadoop's mini clusters, through scripts/local-cluster
 * start --manager yarn), submitted in cluster deploy mode: the driver runs in the
 * ApplicationMaster's container and YARN reports the application's final status.
 */
class TrainOnYarnIT {
    @TempDir
    static java.nio.file.Path tmp;
    private static YarnCluster cluster;
    private static FileSystem hdfs;

    @BeforeAll
    static void startHdfsAndYarn() throws Exception {
        cluster = YarnCluster.start(Files.createDirectories(tmp.resolve("state")));
        hdfs = FileSystem.get(URI.create(cluster.hdfsUri()), new Configuration());
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String[] train(String checkpoints, String steps, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", "hdfs:///datasets/verdict", "--checkpoint-dir",
                checkpoints, "--preset", "tiny", "--max-steps", steps, "--lr-decay-steps", "8",
                "--batch-size-per-worker", "2", "--averaging-frequency", "2", "--workers", "2", "--eval-every", "4",
                "--eval-batches", "2",
                "--lr", "2e-3", "--progress-seconds", "0", "--json"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** Submits to YARN and asserts that the application SUCCEEDED in its one attempt. */
    private static java.nio.file.Path succeed(String name, String... command) throws Exception {
        java.nio.file.Path log = tmp.resolve(name + ".log");
        int status = cluster.submit(log, command);
        String text = Files.readString(log);
        assertEquals(0, status, text);
        assertTrue(text.contains("final status: SUCCEEDED"), text);
        assertFalse(text.contains("final status: FAILED"), text);
        return log;
    }

    private List<JsonNode> metrics(String checkpoints) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        try (var in = hdfs.open(new Path(checkpoints, "metrics.jsonl"))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                lines.add(new ObjectMapper().readTree(line));
            }
        }
        return lines;
    }

    /** The same training, uninterrupted, in one local JVM (embedded Spark, two workers), reading HDFS. */
    /** The same training, uninterrupted, in one local JVM (embedded Spark, two workers), reading HDFS. */
    private void trainLocally(String checkpoints, String steps) throws Exception {
        java.nio.file.Path log = tmp.resolve("uninterrupted.log");
        assertEquals(0, MiniHadoop.sparkgptOnHdfs(cluster.hdfsUri(), log, List.of(train(checkpoints, steps))),
                Files.readString(log));
    }

    @Test
    void tokenizeTrainAndResumeInClusterModeSucceedEachTimeAndResumeExactly() throws Exception {
        succeed("tokenize", "tokenize", "--input", LocalCluster.ROOT.resolve("data/the-verdict.txt").toUri().toString(),
                "--output", "hdfs:///datasets/verdict", "--max-length", "64", "--stride", "64");
        assertTrue(hdfs.exists(new Path("/datasets/verdict/dataset.json")));
        succeed("train", train("hdfs:///runs/yarn", "4"));
        java.nio.file.Path resume = succeed("resume", train("hdfs:///runs/yarn", "8", "--resume"));
        JsonNode result = new ObjectMapper().readTree(cluster.driverStdout(resume).lines()
                .filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
        assertEquals(8, result.get("steps").asLong());
        assertEquals(cluster.hdfsUri() + "/runs/yarn/step-00000008", result.get("checkpoint").asText());
        assertTrue(hdfs.exists(new Path("/runs/yarn/step-00000008")));

        trainLocally("hdfs:///runs/uninterrupted", "8");
        List<JsonNode> resumed = metrics("/runs/yarn");
        List<JsonNode> uninterrupted = metrics("/runs/uninterrupted");
        assertEquals(List.of(0L, 4L, 8L), resumed.stream().map(n -> n.get("step").asLong()).toList());
        assertEquals(uninterrupted.size(), resumed.size());
        for (int i = 0; i < resumed.size(); i++) {
            for (String key : List.of("train_loss", "val_loss")) {
                double expected = uninterrupted.get(i).get(key).asDouble();
                assertEquals(expected, resumed.get(i).get(key).asDouble(), 1e-6 * Math.abs(expected),
                        key + " at step " + resumed.get(i).get("step"));
            }
        }
    }

    @Test
    void aFailedCommandIsReportedFailedWithItsErrorInYarnsDiagnostics() throws Exception {
        java.nio.file.Path log = tmp.resolve("missing-input.log");
        int status = cluster.submit(log, "tokenize", "--input", "file:///no/such/corpus.txt",
                "--output", "hdfs:///datasets/none");
        String text = Files.readString(log);
        assertNotEquals(0, status, text);
        assertTrue(text.contains("final status: FAILED"), text);
        assertTrue(text.matches("(?s).*sparkgpt failed with exit status 2: input file:/+no/such/corpus.txt does not exist.*"),
                text);
        assertFalse(hdfs.exists(new Path("/datasets/none")));
    }
}
