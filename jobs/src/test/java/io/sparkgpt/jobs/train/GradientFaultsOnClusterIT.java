package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --sync gradients} on a real two-worker standalone cluster loses a worker JVM mid-run
 * (its executor, and the shard state it owned, with it): the round starts again from the
 * replicated state of its start on the surviving executor, and the run's losses are the
 * undisturbed run's.
 */
class GradientFaultsOnClusterIT {
    static final int STEPS = 16;
    @TempDir
    static Path tmp;

    private static String[] train(Path data, Path checkpoints) {
        return new String[] {"train", "--data", data.toString(), "--checkpoint-dir", checkpoints.toString(),
            "--preset", "tiny", "--max-steps", Integer.toString(STEPS), "--batch-size-per-worker", "2",
            "--averaging-frequency", "2", "--workers", "2", "--eval-every", "4", "--checkpoint-every", "4",
            "--lr", "2e-3", "--sync", "gradients", "--json"};
    }

    private static long barrierRounds(String driverLog) {
        return driverLog.lines().filter(l -> l.contains("one barrier job")).count();
    }

    @Test
    void aWorkerKilledMidRunChangesNoLoss() throws Exception {
        Path data = tmp.resolve("dataset");
        Path undisturbed = tmp.resolve("undisturbed");
        Path disturbed = tmp.resolve("worker-loss");
        double undisturbedSeconds;
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state-0")), 2)) {
            LocalCluster.awaitSuccess(cluster.submit(tmp.resolve("tokenize.log"), "tokenize", "--input",
                    Path.of("..", "data", "the-verdict.txt").toAbsolutePath().toString(), "--output", data.toString(),
                    "--max-length", "64", "--stride", "64"), tmp.resolve("tokenize.log"));
            long started = System.nanoTime();
            LocalCluster.awaitSuccess(cluster.submit(tmp.resolve("undisturbed.log"), train(data, undisturbed)),
                    tmp.resolve("undisturbed.log"));
            undisturbedSeconds = (System.nanoTime() - started) / 1e9;
        }
        Path log = tmp.resolve("worker-loss.log");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state-1")), 2)) {
            long started = System.nanoTime();
            Process driver = cluster.submit(log, train(data, disturbed));
            TrainFaultsOnClusterIT.await(() -> TrainFaultsOnClusterIT.lastEvaluatedStep(disturbed) >= 8, "step 8");
            long worker = cluster.workerPids().get(1);
            assertTrue(ProcessHandle.of(worker).orElseThrow().destroyForcibly(), "killed worker pid " + worker);
            double killedAt = (System.nanoTime() - started) / 1e9;
            assertTrue(driver.isAlive(), "the job was still running when the worker died");
            LocalCluster.awaitSuccess(driver, log);
            System.out.printf("FAULT gradients worker loss: killed worker JVM %d %.1f s in, after step 8; the job "
                    + "finished in %.1f s vs %.1f s undisturbed%n", worker, killedAt,
                    (System.nanoTime() - started) / 1e9, undisturbedSeconds);
        }
        // Rounds run as one barrier job while both executors are up, a job a phase while one is missing.
        long barrierRounds = barrierRounds(Files.readString(tmp.resolve("undisturbed.log")));
        String driverLog = Files.readString(log);
        driverLog.lines().filter(l -> l.contains("starts again")).limit(3)
                .forEach(l -> System.out.println("FAULT gradients driver: " + l));
        System.out.printf("FAULT gradients: %d of %d rounds were barrier jobs undisturbed, %d with the fault%n",
                barrierRounds, STEPS / 2, barrierRounds(driverLog));
        assertTrue(barrierRounds >= 1 && barrierRounds(driverLog) >= 1, "barrier rounds ran");
        List<JsonNode> want = TrainFaultsOnClusterIT.metrics(undisturbed);
        List<JsonNode> got = TrainFaultsOnClusterIT.metrics(disturbed);
        assertEquals(STEPS / 4 + 1, want.size(), "evaluations at 0, 4, ..., 16");
        assertEquals(want.size(), got.size(), "evaluations");
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i).get("step").asLong(), got.get(i).get("step").asLong(), "evaluation " + i);
            assertEquals(want.get(i).get("train_loss").asDouble(), got.get(i).get("train_loss").asDouble(), 1e-6,
                    "train loss at step " + got.get(i).get("step"));
            assertEquals(want.get(i).get("val_loss").asDouble(), got.get(i).get("val_loss").asDouble(), 1e-6,
                    "val loss at step " + got.get(i).get("step"));
        }
        var last = new CheckpointStore(disturbed.toUri().toString(), new Configuration()).latestValid(m -> { });
        assertEquals(STEPS, last.orElseThrow().checkpoint().state().step(), "the final checkpoint's step");
    }
}
