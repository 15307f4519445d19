package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.tokenize.TokenizeConfig;
import io.sparkgpt.jobs.tokenize.TokenizeJob;
import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A round's RDD holds exactly its windows, each worker's in the round's order. */
class WindowDataTest {
    static SparkSession spark;
    static WindowData windows;

    @BeforeAll
    static void tokenize(@TempDir Path shared) throws IOException {
        spark = LocalSpark.start();
        String dataset = shared.resolve("dataset").toString();
        TokenizeJob.run(spark, TokenizeConfig.defaults(List.of(Path.of("..", "data", "the-verdict.txt").toString()),
                dataset).withWindows(32, 32));
        windows = WindowData.load(spark, DatasetInfo.read(dataset, spark.sparkContext().hadoopConfiguration()),
                DatasetFormat.TRAIN);
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    /** The inputs of every minibatch of every worker, in order: worker, minibatch, row. */
    private static List<List<float[]>> inputs(int[] round, int workers, int batch) {
        List<List<float[]>> out = new ArrayList<>();
        for (List<DataSet> worker : windows.round(round, workers, round.length / workers, batch).glom().collect()) {
            List<float[]> rows = new ArrayList<>();
            for (DataSet minibatch : worker) {
                for (int r = 0; r < minibatch.numExamples(); r++) {
                    rows.add(minibatch.getFeatures().getRow(r).toFloatVector());
                }
            }
            out.add(rows);
        }
        return out;
    }

    private static float[] inputsOf(int window) {
        int[] ids = windows.collect(new int[] {window}).get(0);
        float[] x = new float[ids.length - 1];
        DatasetFormat.example(ids, 0, x, new float[ids.length - 1]);
        return x;
    }

    @Test
    void aWindowTwiceInARoundWhereTwoEpochsMeetIsTrainedInBothPlaces() {
        int[] round = {5, 2, 7, 5}; // window 5 ends one epoch and starts the next
        List<List<float[]>> got = inputs(round, 2, 1);
        assertEquals(2, got.size());
        for (int w = 0; w < 2; w++) {
            assertEquals(2, got.get(w).size(), "worker " + w + "'s minibatches");
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(inputsOf(round[2 * w + i]), got.get(w).get(i), "worker " + w + ", row " + i);
            }
        }
    }

    private static List<List<float[]>> inputs(JavaRDD<DataSet> round) {
        List<List<float[]>> out = new ArrayList<>();
        for (List<DataSet> worker : round.glom().collect()) {
            List<float[]> rows = new ArrayList<>();
            for (DataSet minibatch : worker) {
                for (int r = 0; r < minibatch.numExamples(); r++) {
                    rows.add(minibatch.getFeatures().getRow(r).toFloatVector());
                }
            }
            out.add(rows);
        }
        return out;
    }

    @Test
    void roundsPreparedByOneShuffleEqualEachRoundPreparedAlone() {
        List<int[]> rounds = List.of(new int[] {3, 1, 4, 1, 5, 9}, new int[] {2, 6, 5, 3, 5, 8}, new int[] {9, 7, 9, 3, 2, 3});
        WindowData.Rounds prepared = windows.rounds(rounds, 2, 3, 3);
        assertEquals(3, prepared.count());
        for (int k = 2; k >= 0; k--) { // any order: each reads its own partitions of the one shuffle
            List<List<float[]>> together = inputs(prepared.round(k));
            List<List<float[]>> alone = inputs(rounds.get(k), 2, 3);
            assertEquals(2, together.size(), "round " + k + "'s workers");
            for (int w = 0; w < 2; w++) {
                assertEquals(3, together.get(w).size());
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(alone.get(w).get(i), together.get(w).get(i), "round " + k + ", worker " + w + ", row " + i);
                    assertArrayEquals(inputsOf(rounds.get(k)[3 * w + i]), together.get(w).get(i));
                }
            }
        }
    }
}
