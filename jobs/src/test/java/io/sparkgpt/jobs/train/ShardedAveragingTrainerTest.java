package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.VerdictBatches;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Sharded averaging over the block manager computes exactly what dl4j-spark's averaging computes. */
class ShardedAveragingTrainerTest {
    static SparkSession spark;
    static JavaSparkContext jsc;
    static WorkerTimes times;
    static int[] ids;

    @BeforeAll
    static void start() throws IOException {
        spark = LocalSpark.start();
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        times = new WorkerTimes(jsc.sc());
        ids = VerdictBatches.ids();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    private static final GptConfig MODEL = GptConfig.preset("tiny").withContextLength(32).withDropRate(0.1);

    private static TrainConfig config(String sync) {
        return new TrainConfig("unused", "unused", MODEL, 6, 0, 4, 2, 2, 0, 2, 1e-3, 1e-4, 0, 6,
                0.1, 1.0, 2, 1, 2, 1, "", false, 11, "gpt2", sync);
    }

    /** The tiny GPT every test starts from (seed 5). */
    private static ComputationGraph startNetwork() {
        return GptNetwork.build(MODEL, 5, new Adam(1e-3), 0.1, 1.0, DataType.FLOAT);
    }

    /** Round r: 2 workers x 2 minibatches of the book's text. */
    private static JavaRDD<DataSet> round(JavaSparkContext jsc, int[] ids, int r) {
        List<DataSet> minibatches = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            minibatches.add(VerdictBatches.batch(ids, 4 * r + i));
        }
        return jsc.parallelize(minibatches, 2);
    }

    @Test
    void threeRoundsOnTwoWorkersEqualDl4jSparkParameterAveraging() throws IOException {
        ComputationGraph start = startNetwork();
        try (RoundTrainer dl4j = RoundTrainer.of(jsc, start.clone(), config("dl4j"), 2, times);
             RoundTrainer sharded = RoundTrainer.of(jsc, start.clone(), config("params"), 2, times)) {
            assertEquals(AveragingTrainer.class, dl4j.getClass());
            assertEquals(ShardedAveragingTrainer.class, sharded.getClass());
            for (int r = 0; r < 3; r++) {
                JavaRDD<DataSet> rdd = round(jsc, ids, r);
                double expected = dl4j.fit(rdd);
                assertEquals(expected, sharded.fit(rdd), 1e-6, "the workers' mean loss, round " + r);
            }
            ComputationGraph a = dl4j.network();
            ComputationGraph b = sharded.network();
            assertEquals(6, b.getConfiguration().getIterationCount(), "iterations after 3 rounds of 2");
            assertEquals(a.getConfiguration().getIterationCount(), b.getConfiguration().getIterationCount());
            assertArrayEquals(a.params().toFloatVector(), b.params().toFloatVector(), 1e-6f, "parameters");
            assertArrayEquals(a.getUpdater().getStateViewArray().toFloatVector(),
                    b.getUpdater().getStateViewArray().toFloatVector(), 1e-6f, "Adam's moments");
            assertNotEquals(0f, start.params().sub(b.params()).amaxNumber().floatValue(), "training moved them");
            assertEquals(4L * (a.numParams() + a.getUpdater().getStateViewArray().length()), sharded.stateBytes());
        }
    }

    @Test
    void slicesLostBeforeAveragingAreTrainedAgainToTheSameResult() throws IOException {
        ComputationGraph start = startNetwork();
        int[] attempts = new int[1];
        try (ShardedAveragingTrainer undisturbed = new ShardedAveragingTrainer(jsc, start.clone(),
                config("params"), 2, times);
             ShardedAveragingTrainer disturbed = new ShardedAveragingTrainer(jsc, start.clone(),
                     config("params"), 2, times)) {
            disturbed.afterTrainStage = round -> {
                if (round == 2 && attempts[0]++ == 0) { // worker 1's executor "dies" after training round 2
                    StateLayout layout = disturbed.layout();
                    assertEquals(2, SparkBlocks.removeLocal(name -> name.equals(layout.slice(round, 0, 0, 1))
                            || name.equals(layout.slice(round, 1, 0, 1))), "worker 1's two slices");
                }
            };
            for (int r = 0; r < 3; r++) {
                JavaRDD<DataSet> rdd = round(jsc, ids, r);
                assertEquals(undisturbed.fit(rdd), disturbed.fit(rdd), 1e-7, "loss, round " + r);
            }
            assertEquals(2, attempts[0], "round 2 was trained twice");
            assertArrayEquals(undisturbed.network().params().toFloatVector(),
                    disturbed.network().params().toFloatVector(), 1e-7f, "parameters");
            assertArrayEquals(undisturbed.network().getUpdater().getStateViewArray().toFloatVector(),
                    disturbed.network().getUpdater().getStateViewArray().toFloatVector(), 1e-7f, "Adam's moments");
        }
    }

    @Test
    void averagesLostBeforeTheNextRoundCopiedThemAreMadeAgainToTheSameResult() throws IOException {
        ComputationGraph start = startNetwork();
        List<Long> trained = new ArrayList<>();
        try (ShardedAveragingTrainer undisturbed = new ShardedAveragingTrainer(jsc, start.clone(),
                config("params"), 2, times);
             ShardedAveragingTrainer disturbed = new ShardedAveragingTrainer(jsc, start.clone(),
                     config("params"), 2, times)) {
            disturbed.afterTrainStage = trained::add;
            StateLayout layout = disturbed.layout();
            for (int r = 0; r < 3; r++) {
                JavaRDD<DataSet> rdd = round(jsc, ids, r);
                assertEquals(undisturbed.fit(rdd), disturbed.fit(rdd), 1e-7, "loss, round " + (r + 1));
                if (r == 0) { // shard 1 of round 1's averages "dies" before round 2 copies it
                    assertEquals(1, SparkBlocks.removeLocal(name -> name.equals(layout.averaged(1, 1, 0))));
                }
            }
            // shard 0 of round 3's averages "dies" before the driver reads them
            assertEquals(1, SparkBlocks.removeLocal(name -> name.equals(layout.averaged(3, 0, 0))));
            assertArrayEquals(undisturbed.network().params().toFloatVector(),
                    disturbed.network().params().toFloatVector(), 1e-7f, "parameters");
            assertArrayEquals(undisturbed.network().getUpdater().getStateViewArray().toFloatVector(),
                    disturbed.network().getUpdater().getStateViewArray().toFloatVector(), 1e-7f, "Adam's moments");
            assertEquals(List.of(1L, 1L, 2L, 3L, 3L), trained, "rounds 1 and 3 trained again, each once");
        }
    }

    @Test
    void averagesLostWithTheStateTheyCameFromStopTheRunWithTheWayToResume() throws IOException {
        ComputationGraph start = startNetwork();
        try (ShardedAveragingTrainer trainer = new ShardedAveragingTrainer(jsc, start, config("params"), 2, times)) {
            StateLayout layout = trainer.layout();
            trainer.fit(round(jsc, ids, 0));
            trainer.network(); // the driver's network no longer holds the starting state
            assertEquals(2, SparkBlocks.removeLocal(name -> name.equals(layout.averaged(1, 1, 0))
                    || name.equals(layout.averaged(0, 1, 0))));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> trainer.fit(round(jsc, ids, 1)));
            assertEquals("round 0's averaged state and the state it was trained from were both lost with their "
                    + "executors: resume the run from its last checkpoint (--resume)", e.getMessage());
        }
    }
}
