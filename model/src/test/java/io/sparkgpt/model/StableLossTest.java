package io.sparkgpt.model;

import io.sparkgpt.model.engine.Blas;
import io.sparkgpt.model.engine.Buf;
import io.sparkgpt.model.engine.CrossEntropyHead;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loss stays finite and exact for huge logits (weights x25), where ND4J's fused softmax
 * cross-entropy returned Infinity (PyTorch's cross_entropy: finite).
 */
class StableLossTest {

    @Test
    void lossOfHugeLogitsIsFiniteAndEqualsADoublePrecisionRecomputation() {
        GptConfig c = new GptConfig(50, 8, 16, 2, 2, 0.0, false);
        ComputationGraph net = GptNetwork.build(c, 3);
        net.params().muli(25);
        INDArray inputs = Nd4j.createFromArray(new float[][] {
                {1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}});
        INDArray targets = inputs.add(1);
        INDArray logits = GptNetwork.logits(net, inputs).castTo(DataType.DOUBLE);  // [2, 8, 50]

        double sum = 0;
        double largestGap = 0;
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 8; t++) {
                double[] row = logits.slice(b).slice(t).toDoubleVector();
                double max = java.util.Arrays.stream(row).max().orElseThrow();
                double sumExp = java.util.Arrays.stream(row).map(v -> Math.exp(v - max)).sum();
                double target = row[targets.getInt(b, t)];
                sum += max + Math.log(sumExp) - target;
                largestGap = Math.max(largestGap, max - target);
            }
        }
        double expected = sum / 16;
        // exp(-104) underflows float: below that, softmax(target) = 0 and -log gives Infinity.
        assertTrue(largestGap > 104, "the case must overflow a naive float softmax, gap " + largestGap);

        double inference = GptNetwork.loss(net, inputs, targets);
        assertTrue(Double.isFinite(inference), "inference loss " + inference);
        assertEquals(expected, inference, 1e-4 * expected, "inference loss vs double recomputation");
        // The DL4J training path (drop_rate 0 here) reports the same value.
        double score = net.score(new DataSet(inputs, targets));
        assertEquals(expected, score, 1e-4 * expected, "training-graph score vs double recomputation");
    }

    @Test
    void crossEntropyOfKnownRowsIsLogSumExpMinusTarget() {
        // x = the first two unit rows, so logits = x W^T are W's first two columns.
        INDArray x = Nd4j.createFromArray(new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}});
        INDArray w = Nd4j.createFromArray(new float[][] {{0, 1000, 0, 0}, {0, 0, 0, 0}, {0, -1000, 0, 0},
                {0, 500, 0, 0}});                                                   // [vocab 4, emb 4]
        CrossEntropyHead head = new CrossEntropyHead(Buf.allocator(DataType.FLOAT), 2, 4, 4);
        double sum = head.lossAndBackward(Buf.of(x), 2, Blas.Mat.of(Buf.of(w), 0, 4), new int[] {2, 2}, 0,
                null, null);
        // ln 4 for the uniform row; 1000 - (-1000) + ln(1 + e^-500 + ...) = 2000 for the other.
        assertEquals(Math.log(4) + 2000, sum, 1e-3, "sum of the two rows");
    }
}
