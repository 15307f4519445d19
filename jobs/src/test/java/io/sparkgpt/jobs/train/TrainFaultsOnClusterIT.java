package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on a real two-worker standalone cluster survives losing a worker JVM and losing the
 * driver in the middle of writing a checkpoint, with the same losses as an undisturbed run.
 */
class TrainFaultsOnClusterIT {
    static final int STEPS = 16;
    @TempDir
    static Path tmp;
    static Path data;
    static List<JsonNode> undisturbed;
    static double undisturbedSeconds;

    private static String[] train(Path checkpoints, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--checkpoint-dir",
                checkpoints.toString(), "--preset", "tiny", "--max-steps", Integer.toString(STEPS),
                "--batch-size-per-worker", "2", "--averaging-frequency", "2", "--workers", "2", "--eval-every", "4",
                "--checkpoint-every", "4", "--lr", "2e-3", "--json"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    static List<JsonNode> metrics(Path checkpoints) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(checkpoints.resolve("metrics.jsonl"))) {
            out.add(new ObjectMapper().readTree(line));
        }
        return out;
    }

    static long lastEvaluatedStep(Path checkpoints) {
        try {
            List<JsonNode> m = metrics(checkpoints);
            return m.isEmpty() ? -1 : m.get(m.size() - 1).get("step").asLong();
        } catch (IOException e) {
            return -1; // not written yet
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    @BeforeAll
    static void undisturbedRun() throws Exception {
        data = tmp.resolve("dataset");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state-0")), 2)) {
            LocalCluster.awaitSuccess(cluster.submit(tmp.resolve("tokenize.log"), "tokenize", "--input", Path.of("..", "data",
                    "the-verdict.txt").toAbsolutePath().toString(), "--output", data.toString(), "--max-length",
                    "64", "--stride", "64"), tmp.resolve("tokenize.log"));
            long started = System.nanoTime();
            LocalCluster.awaitSuccess(cluster.submit(tmp.resolve("undisturbed.log"), train(tmp.resolve("undisturbed"))),
                    tmp.resolve("undisturbed.log"));
            undisturbedSeconds = (System.nanoTime() - started) / 1e9;
        }
        undisturbed = metrics(tmp.resolve("undisturbed"));
        assertEquals(STEPS / 4 + 1, undisturbed.size(), "evaluations at 0, 4, ..., 16");
    }

    private static void assertSameLosses(List<JsonNode> actual, String run) {
        assertEquals(undisturbed.size(), actual.size(), run + ": evaluations");
        for (int i = 0; i < actual.size(); i++) {
            JsonNode want = undisturbed.get(i);
            JsonNode got = actual.get(i);
            assertEquals(want.get("step").asLong(), got.get("step").asLong(), run + ": evaluation " + i);
            assertEquals(want.get("train_loss").asDouble(), got.get("train_loss").asDouble(), 1e-6,
                    run + ": train loss at step " + got.get("step"));
            assertEquals(want.get("val_loss").asDouble(), got.get("val_loss").asDouble(), 1e-6,
                    run + ": val loss at step " + got.get("step"));
        }
    }

    @Test
    void aWorkerKilledMidRunCostsNoStepAndChangesNoLoss() throws Exception {
        Path checkpoints = tmp.resolve("worker-loss");
        Path log = tmp.resolve("worker-loss.log");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state-1")), 2)) {
            long started = System.nanoTime();
            Process driver = cluster.submit(log, train(checkpoints));
            await(() -> lastEvaluatedStep(checkpoints) >= 8, "step 8");
            long killedAtStep = lastEvaluatedStep(checkpoints);
            long worker = cluster.workerPids().get(1);
            assertTrue(ProcessHandle.of(worker).orElseThrow().destroyForcibly(), "killed worker pid " + worker);
            double killedAt = (System.nanoTime() - started) / 1e9;
            assertTrue(driver.isAlive(), "the job was still running when the worker died");
            LocalCluster.awaitSuccess(driver, log);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("FAULT worker loss: killed worker JVM %d after step %d (%.1f s in); the job finished "
                    + "in %.1f s vs %.1f s undisturbed%n", worker, killedAtStep, killedAt, seconds, undisturbedSeconds);
        }
        assertSameLosses(metrics(checkpoints), "worker killed");
        var last = new CheckpointStore(checkpoints.toUri().toString(), new Configuration()).latestValid(m -> { });
        assertEquals(STEPS, last.orElseThrow().checkpoint().state().step(), "the final checkpoint's step");
    }

    @Test
    void aDriverKilledWhileCheckpointingResumesFromThePreviousCheckpointExactly() throws Exception {
        Path checkpoints = tmp.resolve("driver-loss");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state-2")), 2)) {
            long started = System.nanoTime();
            Process driver = cluster.submit(tmp.resolve("killed.log"), train(checkpoints));
            await(() -> hasTemporary(checkpoints, ".step-00000008.tmp-"), "checkpoint 8 being written");
            driver.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
            assertTrue(driver.waitFor(30, TimeUnit.SECONDS));
            double killedAt = (System.nanoTime() - started) / 1e9;
            assertFalse(Files.exists(checkpoints.resolve("step-00000008")), "the kill landed mid-write");

            long resumeStarted = System.nanoTime();
            Path log = tmp.resolve("resumed.log");
            LocalCluster.awaitSuccess(cluster.submit(log, train(checkpoints, "--resume")), log);
            double resumeSeconds = (System.nanoTime() - resumeStarted) / 1e9;
            String resumed = Files.readString(log);
            assertTrue(resumed.contains("resuming from") && resumed.contains("step-00000004"), resumed);
            System.out.printf("FAULT driver loss: killed the driver while it wrote checkpoint 8 (%.1f s in); "
                    + "resumed from step 4 (4 steps lost) and finished in %.1f s vs %.1f s undisturbed%n",
                    killedAt, resumeSeconds, undisturbedSeconds);
        }
        assertSameLosses(metrics(checkpoints), "driver killed and resumed");
    }

    private static boolean hasTemporary(Path dir, String prefix) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().startsWith(prefix));
        } catch (IOException e) {
            return false;
        }
    }
}
