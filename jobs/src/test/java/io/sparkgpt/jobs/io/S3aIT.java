package io.sparkgpt.jobs.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.UserInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Datasets and checkpoints on s3a:// against a real S3 API (Adobe S3Mock, its own process) with
 * Hadoop's S3A client. Each command runs in its own JVM (embedded Spark, local[2]) so that one
 * can be killed half-way through publishing.
 */
class S3aIT {
    private static final String BUCKET = "sparkgpt";
    @TempDir
    static java.nio.file.Path tmp;
    private static Process s3mock;
    private static Map<String, String> s3a;
    private static FileSystem s3;

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @BeforeAll
    static void startS3Mock() throws Exception {
        int port = freePort();
        java.nio.file.Path jar = LocalCluster.ROOT.resolve("jobs/target/s3mock/s3mock.jar");
        s3mock = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-Xmx512m", "-jar", jar.toString(),
                "--com.adobe.testing.s3mock.httpPort=" + port, "--server.port=" + freePort(), "--server.address=127.0.0.1",
                "--com.adobe.testing.s3mock.store.initialBuckets=" + BUCKET,
                "--com.adobe.testing.s3mock.store.root=" + Files.createDirectories(tmp.resolve("s3-store")))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("s3mock.log").toFile()).start();
        awaitHttp("http://127.0.0.1:" + port + "/");
        s3a = new LinkedHashMap<>();
        s3a.put("fs.s3a.endpoint", "http://127.0.0.1:" + port);
        s3a.put("fs.s3a.endpoint.region", "us-east-1");
        s3a.put("fs.s3a.path.style.access", "true");
        s3a.put("fs.s3a.connection.ssl.enabled", "false");
        s3a.put("fs.s3a.access.key", "test-access");
        s3a.put("fs.s3a.secret.key", "test-secret");
        // Small parts, so that checkpoints go up as real multipart uploads.
        s3a.put("fs.s3a.multipart.size", "5M");
        s3a.put("fs.s3a.multipart.threshold", "5M");
        Configuration conf = new Configuration();
        s3a.forEach(conf::set);
        s3 = FileSystem.get(URI.create("s3a://" + BUCKET + "/"), conf);
    }

    private static void awaitHttp(String url) throws Exception {
        for (int i = 0; i < 240; i++) {
            assertTrue(s3mock.isAlive(), () -> "S3Mock exited: " + read("s3mock.log"));
            try {
                HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
                c.setConnectTimeout(500);
                if (c.getResponseCode() > 0) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("S3Mock did not answer in 120 s: " + read("s3mock.log"));
    }

    private static String read(String log) {
        try {
            return Files.readString(tmp.resolve(log));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    @AfterAll
    static void stopS3Mock() throws Exception {
        if (s3mock != null) {
            s3mock.destroy();
            s3mock.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Runs a sparkgpt command in a new JVM (local[2], the S3A settings); returns its exit status. */
    private static int sparkgpt(String name, Map<String, String> hadoop, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xmx2g"));
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect")).forEach(args::add);
        args.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Dspark.master=local[2]",
                "-Dspark.ui.enabled=false", "-Dlog4j2.configurationFile=" + LocalCluster.ROOT.resolve("conf/log4j2.properties")));
        s3a.forEach((k, v) -> args.add("-Dspark.hadoop." + k + "=" + v));
        hadoop.forEach((k, v) -> args.add("-Dspark.hadoop." + k + "=" + v));
        args.add("io.sparkgpt.jobs.SparkGpt");
        args.addAll(List.of(command));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile())
                .start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            // Say where it hung: its threads and its log, then stop it (a hung child would outlive the suite).
            String threads = threadDump(p.pid());
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError(name + " did not finish in 300 s. Its log:\n" + read(name + ".log")
                    + "\nIts threads:\n" + threads + "\nS3Mock log:\n" + read("s3mock.log"));
        }
        return p.exitValue();
    }

    private static String threadDump(long pid) {
        try {
            Process jcmd = new ProcessBuilder(System.getProperty("java.home") + "/bin/jcmd", Long.toString(pid),
                    "Thread.print").redirectErrorStream(true).start();
            String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jcmd.waitFor(30, TimeUnit.SECONDS);
            return out;
        } catch (Exception e) {
            return "no thread dump: " + e;
        }
    }

    private static void succeed(String name, String... command) throws Exception {
        assertEquals(0, sparkgpt(name, Map.of(), command), read(name + ".log"));
    }

    private static String[] tokenize(String output, String maxLength, String... more) {
        List<String> args = new ArrayList<>(List.of("tokenize", "--input",
                LocalCluster.ROOT.resolve("data/the-verdict.txt").toUri().toString(), "--output", output,
                "--max-length", maxLength, "--stride", maxLength));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static String[] train(String data, String checkpoints, String steps, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data, "--checkpoint-dir", checkpoints,
                "--preset", "tiny", "--max-steps", steps, "--lr-decay-steps", "8", "--batch-size-per-worker", "2",
                "--averaging-frequency", "2", "--workers", "2", "--eval-every", "2", "--eval-batches", "2", "--lr", "2e-3",
                "--progress-seconds", "0"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static Set<String> names(String dir) throws Exception {
        Set<String> names = new TreeSet<>();
        for (FileStatus s : s3.listStatus(new Path(dir))) {
            names.add(s.getPath().getName());
        }
        return names;
    }

    private static long maxLength(String dataset) throws Exception {
        try (var in = s3.open(new Path(dataset, "dataset.json"))) {
            return new ObjectMapper().readTree(in).get("max_length").asLong();
        }
    }

    @Test
    void tokenizeTrainAndResumeWithDatasetAndCheckpointsOnS3a() throws Exception {
        String data = "s3a://" + BUCKET + "/datasets/verdict";
        String runs = "s3a://" + BUCKET + "/runs/verdict";
        succeed("tokenize", tokenize(data, "64"));
        assertEquals(Set.of("_SUCCESS", "dataset.json", "train", "val"), names(data));
        succeed("train", train(data, runs, "4"));
        succeed("resume", train(data, runs, "8", "--resume"));
        assertTrue(read("resume.log").contains("step-00000004"), read("resume.log"));
        assertEquals(Set.of("loss.png", "metrics.jsonl", "train.json", "step-00000004", "step-00000006",
                "step-00000008"), names(runs), "the newest 3 of every 2 steps (--keep-checkpoints 3)");
        List<Long> steps = new ArrayList<>();
        try (var in = s3.open(new Path(runs, "metrics.jsonl"))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                steps.add(new ObjectMapper().readTree(line).get("step").asLong());
            }
        }
        assertEquals(List.of(0L, 2L, 4L, 6L, 8L), steps, "both runs' evaluations, appended on S3");
    }

    @Test
    void aPublishKilledHalfWayLeavesNothingAReaderTakesForADataset() throws Exception {
        String data = "s3a://" + BUCKET + "/datasets/killed";
        succeed("tokenize-first", tokenize(data, "64"));
        // Killed before its second move into place: train/ moved; val/, _SUCCESS and the manifest not.
        int killed = sparkgpt("tokenize-killed", Map.of("fs.s3a.impl", HaltingS3AFileSystem.class.getName(),
                HaltingS3AFileSystem.HALT_AT_KEY, "2"), tokenize(data, "32", "--overwrite"));
        assertEquals(137, killed, read("tokenize-killed.log"));
        assertTrue(read("tokenize-killed.log").contains("halting before renaming"), read("tokenize-killed.log"));
        assertFalse(s3.exists(new Path(data, "dataset.json")), "neither the old manifest nor the new one");
        assertFalse(s3.exists(new Path(data, "_SUCCESS")));
        // What train reads of a dataset before any work (the same class, so the same refusal).
        Configuration conf = new Configuration();
        s3a.forEach(conf::set);
        UserInputException refused = assertThrows(UserInputException.class,
                () -> io.sparkgpt.jobs.train.DatasetInfo.read(data, conf));
        assertTrue(refused.getMessage().contains("is not a tokenized dataset (no dataset.json"), refused.getMessage());
        succeed("tokenize-again", tokenize(data, "32", "--overwrite"));
        assertEquals(32, maxLength(data));
        assertEquals(Set.of("_SUCCESS", "dataset.json", "train", "val"), names(data));
    }
}
