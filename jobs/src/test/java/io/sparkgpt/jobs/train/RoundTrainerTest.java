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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One worker training in the driver is parameter averaging over one worker, without the shipping. */
class RoundTrainerTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    @Test
    void theDriverTrainsExactlyAsParameterAveragingOverOneWorker() throws IOException {
        int[] ids = VerdictBatches.ids();
        GptConfig model = GptConfig.preset("tiny").withContextLength(32);
        TrainConfig config = new TrainConfig("unused", "unused", model, 6, 0, 4, 3, 1, 0, 2, 1e-3, 1e-4, 0, 6,
                0.1, 1.0, 3, 1, 3, 1, "", false, 11, "gpt2", "params");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        WorkerTimes times = new WorkerTimes(jsc.sc());
        ComputationGraph start = GptNetwork.build(model, 5, new Adam(1e-3), 0.1, 1.0, DataType.FLOAT);
        RoundTrainer averaging = new AveragingTrainer(jsc, start.clone(), config, 1, times);
        RoundTrainer driver = new DriverTrainer(start.clone(), config.seed(), times);

        for (int round = 0; round < 2; round++) { // two rounds of 3 minibatches: state carries over
            List<DataSet> minibatches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                minibatches.add(VerdictBatches.batch(ids, 3 * round + i));
            }
            JavaRDD<DataSet> rdd = jsc.parallelize(minibatches, 1);
            double averagedLoss = averaging.fit(rdd);
            double driverLoss = driver.fit(rdd);
            assertEquals(averagedLoss, driverLoss, 1e-6, "last minibatch's loss, round " + round);
        }
        assertEquals(6, driver.network().getConfiguration().getIterationCount(), "iterations after two rounds");
        assertEquals(averaging.network().getConfiguration().getIterationCount(),
                driver.network().getConfiguration().getIterationCount(), "iteration count");
        assertArrayEquals(averaging.network().params().toFloatVector(), driver.network().params().toFloatVector(),
                1e-7f, "parameters after two rounds");
        assertArrayEquals(averaging.network().getUpdater().getStateViewArray().toFloatVector(),
                driver.network().getUpdater().getStateViewArray().toFloatVector(), 1e-7f, "Adam's moments");
        assertNotEquals(0f, maxAbsDifference(start, driver.network()), "training moved the parameters");
        assertTrue(times.built.value() <= 1, "the averaging worker built at most one network");
    }

    private static float maxAbsDifference(ComputationGraph a, ComputationGraph b) {
        return a.params().sub(b.params()).amaxNumber().floatValue();
    }
}
