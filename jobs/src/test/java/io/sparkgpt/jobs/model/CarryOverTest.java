package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.checkpoint.Safetensors;
import io.sparkgpt.model.GptNetwork;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model exported before the engine rewrite imports as it is and computes the same logits:
 * the fixtures were written by the SameDiff engine of commit f736dde (a model trained 5 steps
 * from its init, then exported, and its logits for 2 x 12 fixed token ids).
 */
class CarryOverTest {

    @ParameterizedTest
    @ValueSource(strings = {"untied-learned-qkvbias", "tied-sinusoidal"})
    void safetensorsExportedByTheSameDiffEngineGiveItsLogits(String name) throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of(getClass().getResource("/carry-over/" + name).toURI());
        ComputationGraph net = importFile(dir.resolve("model.safetensors"));
        List<String> lines = Files.readAllLines(dir.resolve("logits.txt"));
        INDArray inputs = Nd4j.create(DataType.FLOAT, 2, 12);
        for (int b = 0; b < 2; b++) {
            String[] ids = lines.get(1 + b).split(" ");
            for (int t = 0; t < 12; t++) {
                inputs.putScalar(b, t, Integer.parseInt(ids[t]));
            }
        }
        INDArray logits = GptNetwork.logits(net, inputs);                           // [2, 12, vocab]
        int vocab = GptNetwork.config(net).vocabSize();
        assertArrayEquals(new long[] {2, 12, vocab}, logits.shape());
        double maxDiff = 0;
        for (int row = 0; row < 24; row++) {
            String[] want = lines.get(3 + row).split(" ");
            assertEquals(vocab, want.length, "logits per row in the fixture");
            for (int v = 0; v < vocab; v++) {
                maxDiff = Math.max(maxDiff, Math.abs(Double.parseDouble(want[v]) - logits.getDouble(row / 12, row % 12, v)));
            }
        }
        assertTrue(maxDiff < 1e-5, name + ": max |logit - SameDiff engine's| = " + maxDiff);
    }

    private static ComputationGraph importFile(java.nio.file.Path file) throws Exception {
        FileSystem local = FileSystem.getLocal(new Configuration());
        Path path = new Path(file.toUri());
        try (FSDataInputStream in = local.open(path)) {
            return WeightsExchange.importWeights(new Safetensors.Reader(in, Files.size(file), file.toString()), null,
                    file.toString());
        }
    }
}
