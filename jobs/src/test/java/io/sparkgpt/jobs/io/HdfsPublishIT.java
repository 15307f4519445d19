package io.sparkgpt.jobs.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.MiniHadoop;
import io.sparkgpt.jobs.UserInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Publishing on real HDFS (a MiniDFSCluster), whose renames differ from a local file system's: a
 * directory renamed onto an existing directory moves inside it, a file renamed onto a file
 * returns false. The dataset and checkpoint layouts must still be exactly what the README says.
 */
class HdfsPublishIT {
    @TempDir
    static java.nio.file.Path tmp;
    private static MiniDFSCluster cluster;
    private static FileSystem hdfs;

    @BeforeAll
    static void startHdfs() throws Exception {
        cluster = MiniHadoop.startHdfs(tmp.resolve("hdfs"));
        hdfs = FileSystem.get(URI.create(MiniHadoop.hdfsUri(cluster)), new Configuration());
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown(true);
        }
    }

    /** scripts/sparkgpt on local[2] with HDFS as the default file system; returns the exit status. */
    private static int sparkgpt(String name, String... command) throws Exception {
        return MiniHadoop.sparkgptOnHdfs(MiniHadoop.hdfsUri(cluster), tmp.resolve(name + ".log"), List.of(command));
    }

    private static void succeed(String name, String... command) throws Exception {
        assertEquals(0, sparkgpt(name, command), Files.readString(tmp.resolve(name + ".log")));
    }

    private static Set<String> names(String dir) throws Exception {
        Set<String> names = new TreeSet<>();
        for (FileStatus s : hdfs.listStatus(new Path(dir))) {
            names.add(s.getPath().getName());
        }
        return names;
    }

    private static String[] tokenize(String maxLength, String... more) {
        List<String> args = new ArrayList<>(List.of("tokenize", "--input",
                LocalCluster.ROOT.resolve("data/the-verdict.txt").toUri().toString(), "--output", "/datasets/verdict",
                "--max-length", maxLength, "--stride", maxLength));
        args.addAll(Arrays.asList(more));
        return args.toArray(String[]::new);
    }

    private static long maxLength() throws Exception {
        try (var in = hdfs.open(new Path("/datasets/verdict/dataset.json"))) {
            return new ObjectMapper().readTree(in).get("max_length").asLong();
        }
    }

    @Test
    void overwriteReplacesTheDatasetInPlaceLeavingNoNestedOrTemporaryDirectory() throws Exception {
        succeed("tokenize-64", tokenize("64"));
        // The check tokenize makes before any work (the same class): an existing output needs --overwrite.
        UserInputException refused = assertThrows(UserInputException.class,
                () -> new OutputPublisher(MiniHadoop.hdfsUri(cluster) + "/datasets/verdict", false, hdfs.getConf(),
                        "dataset.json"));
        assertTrue(refused.getMessage().contains("already exists"), refused.getMessage());
        assertEquals(64, maxLength(), "the refused run left the dataset alone");
        succeed("tokenize-32", tokenize("32", "--overwrite"));
        assertEquals(32, maxLength());
        // A rename onto the existing directory would have moved the new dataset inside the old one.
        assertEquals(Set.of("verdict"), names("/datasets"), "no temporary or old copy beside it");
        assertEquals(Set.of("_SUCCESS", "dataset.json", "train", "val"), names("/datasets/verdict"));
    }

    @Test
    void checkpointRetentionKeepsExactlyTheNewestCheckpointsAndTheRunFiles() throws Exception {
        succeed("tokenize-train", "tokenize", "--input", LocalCluster.ROOT.resolve("data/the-verdict.txt").toUri()
                .toString(), "--output", "/datasets/for-training", "--max-length", "64", "--stride", "64");
        succeed("train", "train", "--data", "/datasets/for-training", "--checkpoint-dir", "/runs/retention",
                "--preset", "tiny", "--max-steps", "6", "--batch-size-per-worker", "2", "--averaging-frequency", "2",
                "--workers", "2", "--eval-every", "2", "--eval-batches", "2", "--checkpoint-every", "2", "--keep-checkpoints", "2",
                "--lr", "2e-3", "--progress-seconds", "0");
        // Validation loss falls every evaluation here, so the best checkpoint is the newest.
        assertEquals(Set.of("loss.png", "metrics.jsonl", "train.json", "step-00000004", "step-00000006"),
                names("/runs/retention"));
        for (String step : List.of("step-00000004", "step-00000006")) {
            assertEquals(Set.of("checksums.json", "config.json", "model.safetensors", "state.json"),
                    names("/runs/retention/" + step), step);
        }
    }
}
