package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.Checkpoint;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.model.GptConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --sync gradients}: N workers with batch B take exactly the steps one process takes with
 * batch N x B (dropout on, weight decay, clipping, the warmup-cosine schedule), on embedded Spark.
 * The only difference allowed is the order of the gradient's float sums: each worker sums its own
 * sequences, then the owners add the workers' sums in worker order, where one process sums all
 * sequences in one GEMM. Losses agree to ~1e-7 relative. Parameters are compared by relative L2
 * norm: Adam normalizes every element's step, so elements whose gradient is at the scale of its
 * epsilon (cancellations, ~1e-9) take steps of either sign on float noise in either order,
 * ~lr each; at lr 2e-3 that was 1.5e-5 after 20 steps (max 6e-4 on 119 of 6.5M elements), at
 * the book's 4e-4 well inside 1e-5.
 */
class GradientSyncTest {
    private static final double TOLERANCE = 1e-5;
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path dataset;
    @TempDir
    Path tmp;

    @BeforeAll
    static void tokenize() throws IOException {
        spark = LocalSpark.start();
        dataset = io.sparkgpt.jobs.VerdictBatches.dataset(spark, shared.resolve("dataset"));
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    /** Tiny, the book's lr 4e-4 with warmup 2 and decay over 20 steps, weight decay 0.1, clip 1.0, dropout 0.1. */
    static TrainConfig config(Path checkpoints, String sync, int workers, int batch, int accumulation, int frequency,
                              long steps, boolean resume) {
        return new TrainConfig(dataset.toString(), checkpoints.toString(), GptConfig.preset("tiny"), steps, 0, batch,
                frequency, workers, 0, 2, 4e-4, 4e-5, 2, 20, 0.1, 1.0, 10, 2, 10, 3, "", resume, 7, "gpt2", sync,
                accumulation, 0, null);
    }

    private static TrainConfig oneProcess(Path checkpoints, int frequency, long steps) {
        return config(checkpoints, TrainConfig.SYNC_PARAMS, 1, 16, 1, frequency, steps, false);
    }

    private static Checkpoint last(Path checkpoints) throws IOException {
        return new CheckpointStore(checkpoints.toUri().toString(), new Configuration()).latestValid(m -> { })
                .orElseThrow().checkpoint();
    }

    private static void assertSameRun(TrainResult want, Path wantDir, TrainResult got, Path gotDir) throws IOException {
        assertEquals(want.roundLosses().size(), got.roundLosses().size(), "rounds");
        for (int i = 0; i < want.roundLosses().size(); i++) {
            double w = want.roundLosses().get(i);
            assertEquals(w, got.roundLosses().get(i), TOLERANCE * Math.abs(w), "loss of round " + (i + 1));
        }
        float[] p = last(wantDir).parameters();
        float[] q = last(gotDir).parameters();
        float[] m = last(wantDir).updaterState();
        float[] n = last(gotDir).updaterState();
        assertEquals(p.length, q.length);
        assertEquals(m.length, n.length);
        System.out.printf("GRADIENTS-EQUALITY parameters: relative L2 difference %.3g, max |difference| %.3g "
                + "(max |p| %.3g); Adam's state: relative L2 difference %.3g%n", relativeL2(p, q), maxDifference(p, q),
                maxAbs(p), relativeL2(m, n));
        assertTrue(relativeL2(p, q) <= TOLERANCE, "parameters: |p - q| / |p| = " + relativeL2(p, q));
        assertTrue(relativeL2(m, n) <= 1e-3, "Adam's state: |m - n| / |m| = " + relativeL2(m, n));
        assertEquals(last(wantDir).state().step(), last(gotDir).state().step(), "checkpoint step");
        assertEquals(last(wantDir).state().tokensSeen(), last(gotDir).state().tokensSeen(), "tokens seen");
    }

    /** |a - b|_2 / |a|_2. */
    static double relativeL2(float[] a, float[] b) {
        double d = 0;
        double n = 0;
        for (int i = 0; i < a.length; i++) {
            d += (double) (a[i] - b[i]) * (a[i] - b[i]);
            n += (double) a[i] * a[i];
        }
        return Math.sqrt(d / n);
    }

    private static double maxDifference(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    private static double maxAbs(float[] a) {
        double d = 0;
        for (float x : a) {
            d = Math.max(d, Math.abs(x));
        }
        return d;
    }

    @Test
    void twoWorkersOfEightTakeOneProcesssStepsOfSixteenEveryStep() throws IOException {
        TrainResult one = TrainJob.run(spark, oneProcess(tmp.resolve("one"), 1, 20));
        long barrierRounds = BarrierRound.roundsRun();
        TrainResult two = TrainJob.run(spark, config(tmp.resolve("two"), TrainConfig.SYNC_GRADIENTS, 2, 8, 1, 1, 20,
                false));
        assertEquals(20, BarrierRound.roundsRun() - barrierRounds, "local[2] runs 2 workers' rounds as barrier jobs");
        assertEquals(20, two.roundLosses().size(), "one loss a step");
        assertEquals(one.tokensSeen(), two.tokensSeen(), "tokens");
        assertSameRun(one, tmp.resolve("one"), two, tmp.resolve("two"));
        assertTrue(one.roundLosses().get(19) < one.roundLosses().get(0) - 0.3, "training learned: "
                + one.roundLosses());
    }

    @Test
    void fourWorkersOfFourAndMicroBatchesTakeTheSameSteps() throws IOException {
        TrainResult one = TrainJob.run(spark, oneProcess(tmp.resolve("one"), 2, 20));
        long barrierRounds = BarrierRound.roundsRun();
        TrainResult four = TrainJob.run(spark, config(tmp.resolve("four"), TrainConfig.SYNC_GRADIENTS, 4, 4, 1, 2, 20,
                false));
        assertEquals(barrierRounds, BarrierRound.roundsRun(), "4 workers on local[2]: a job a phase");
        assertSameRun(one, tmp.resolve("one"), four, tmp.resolve("four"));
        TrainResult micro = TrainJob.run(spark, config(tmp.resolve("micro"), TrainConfig.SYNC_GRADIENTS, 2, 4, 2, 2, 20,
                false));
        assertSameRun(one, tmp.resolve("one"), micro, tmp.resolve("micro"));
    }

    @Test
    void aRunResumedOnTwiceTheWorkersOrOnOneContinuesTheSameNumbers() throws IOException {
        TrainResult whole = TrainJob.run(spark, config(tmp.resolve("whole"), TrainConfig.SYNC_GRADIENTS, 2, 8, 1, 2,
                20, false));
        TrainJob.run(spark, config(tmp.resolve("split"), TrainConfig.SYNC_GRADIENTS, 2, 8, 1, 2, 10, false));
        TrainResult resumed = TrainJob.run(spark, config(tmp.resolve("split"), TrainConfig.SYNC_GRADIENTS, 4, 4, 1, 2,
                20, true));
        assertEquals(5, resumed.roundLosses().size(), "steps 11..20 in rounds of 2");
        for (int i = 0; i < 5; i++) {
            double w = whole.roundLosses().get(5 + i);
            assertEquals(w, resumed.roundLosses().get(i), TOLERANCE * w, "round " + (6 + i) + " on 4 workers");
        }
        TrainJob.run(spark, config(tmp.resolve("single"), TrainConfig.SYNC_GRADIENTS, 2, 8, 1, 2, 10, false));
        TrainResult alone = TrainJob.run(spark, config(tmp.resolve("single"), TrainConfig.SYNC_GRADIENTS, 1, 16, 1, 2,
                20, true));
        for (int i = 0; i < 5; i++) {
            double w = whole.roundLosses().get(5 + i);
            assertEquals(w, alone.roundLosses().get(i), TOLERANCE * w, "round " + (6 + i) + " on 1 worker");
        }
        float[] p = last(tmp.resolve("whole")).parameters();
        assertTrue(maxDifference(p, last(tmp.resolve("split")).parameters()) <= TOLERANCE * maxAbs(p), "4 workers' end");
        assertTrue(maxDifference(p, last(tmp.resolve("single")).parameters()) <= TOLERANCE * maxAbs(p), "1 worker's end");
    }

    @Test
    void aResumeThatChangesTheGlobalBatchOrMicroBatchesWithoutGradientsIsRefused() throws IOException {
        TrainJob.run(spark, config(tmp.resolve("run"), TrainConfig.SYNC_GRADIENTS, 2, 4, 1, 2, 4, false));
        UserInputException e = assertThrows(UserInputException.class, () -> TrainJob.run(spark,
                config(tmp.resolve("run"), TrainConfig.SYNC_GRADIENTS, 2, 8, 1, 2, 8, true)));
        assertTrue(e.getMessage().contains("global_batch_size 16") && e.getMessage().contains("started with 8"),
                e.getMessage());
        UserInputException params = assertThrows(UserInputException.class, () -> config(tmp.resolve("x"),
                TrainConfig.SYNC_PARAMS, 2, 4, 2, 2, 4, false));
        assertTrue(params.getMessage().contains("--grad-accumulation 2 needs --sync gradients"), params.getMessage());
    }
}
