package io.sparkgpt.model;

import io.sparkgpt.model.engine.Decoder;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The sequence classifier (the book's chapter 6): a num_classes head scored at each sequence's
 * last real token, padding after it never seen (causal attention), and fine-tuning that leaves
 * frozen parameters exactly as they were.
 */
class ClassifierTest {

    private static final GptConfig CONFIG = new GptConfig(50, 8, 16, 2, 2, 0.0, true).asClassifier(3);
    /** Lengths 5 and 8; positions past the length hold the padding id 49. */
    private static final float[][] TOKENS = {{1, 2, 3, 4, 5, 49, 49, 49}, {9, 10, 11, 12, 13, 14, 15, 16}};
    private static final float[][] TARGETS = {{-1, -1, -1, -1, 2, -1, -1, -1}, {-1, -1, -1, -1, -1, -1, -1, 0}};

    @Test
    void theHeadIsNumClassesByEmbDimAndCountsInTheParameters() {
        ComputationGraph net = GptNetwork.build(CONFIG, 1);
        assertArrayEquals(new long[] {3, 16}, net.getLayer(GptNetwork.LAYER).getParam(GptParams.SCORE).shape());
        assertEquals(CONFIG.parameterCount(), net.numParams());
        assertEquals(new GptConfig(50, 8, 16, 2, 2, 0.0, true).parameterCount() - 50 * 16 + 3 * 16,
                CONFIG.parameterCount());
    }

    @Test
    void lossIsTheCrossEntropyOfTheLastRealTokensLogitsAndPaddingChangesNothing() {
        ComputationGraph net = GptNetwork.build(CONFIG, 1);
        INDArray tokens = Nd4j.createFromArray(TOKENS);
        INDArray logits = GptNetwork.logits(net, tokens);                           // [2, 8, 3]
        double expected = (crossEntropy(logits, 0, 4, 2) + crossEntropy(logits, 1, 7, 0)) / 2;
        assertEquals(expected, GptNetwork.loss(net, tokens, Nd4j.createFromArray(TARGETS)), 1e-6);
        float[][] otherPadding = {TOKENS[0].clone(), TOKENS[1]};
        otherPadding[0][5] = 7;
        otherPadding[0][7] = 30;
        assertEquals(GptNetwork.loss(net, tokens, Nd4j.createFromArray(TARGETS)),
                GptNetwork.loss(net, Nd4j.createFromArray(otherPadding), Nd4j.createFromArray(TARGETS)), 0);
    }

    @Test
    void scoredPredictionsAreEachSequencesLabelAndArgmaxAtItsLastRealToken() {
        ComputationGraph net = GptNetwork.build(CONFIG, 1);
        INDArray logits = GptNetwork.logits(net, Nd4j.createFromArray(TOKENS));
        int[][] p = GptNetwork.scoredPredictions(net, Nd4j.createFromArray(TOKENS), Nd4j.createFromArray(TARGETS));
        assertEquals(2, p.length);
        assertArrayEquals(new int[] {2, at(logits, 0, 4).argMax().getInt(0)}, p[0]);
        assertArrayEquals(new int[] {0, at(logits, 1, 7).argMax().getInt(0)}, p[1]);
    }

    @Test
    void theDecodersLastLogitsAreTheClassLogitsWithoutPadding() {
        ComputationGraph net = GptNetwork.build(CONFIG, 1);
        INDArray logits = GptNetwork.logits(net, Nd4j.createFromArray(TOKENS));
        Decoder decoder = GptNetwork.decoder(net);
        double[] last = decoder.append(new int[] {1, 2, 3, 4, 5});
        assertArrayEquals(at(logits, 0, 4).toDoubleVector(), last, 1e-5);
    }

    /** AdamW with decay for 3 steps: frozen parameters keep their bits, trained ones move. */
    @ParameterizedTest
    @EnumSource(value = Trainable.class, names = {"LAST_BLOCK", "HEAD"})
    void frozenParametersKeepTheirExactValues(Trainable trainable) {
        ComputationGraph net = GptNetwork.build(CONFIG, 1, new Adam(1e-2), 0.1, 1.0, DataType.FLOAT, trainable);
        Map<String, INDArray> before = copy(net.getLayer(GptNetwork.LAYER).paramTable());
        DataSet batch = new DataSet(Nd4j.createFromArray(TOKENS), Nd4j.createFromArray(TARGETS));
        for (int i = 0; i < 3; i++) {
            net.fit(batch);
        }
        Map<String, INDArray> after = net.getLayer(GptNetwork.LAYER).paramTable();
        int trained = 0;
        for (GptParams.Spec s : GptParams.specs(CONFIG)) {
            if (trainable.trains(s.name(), CONFIG)) {
                trained++;
                assertNotEquals(before.get(s.name()), after.get(s.name()), s.name() + " is trained");
            } else {
                assertEquals(before.get(s.name()), after.get(s.name()), s.name() + " is frozen");
            }
        }
        // last-block: the block's 12 parameters, the final norm's 2, the head; head: the head alone.
        assertEquals(trainable == Trainable.HEAD ? 1 : 15, trained);
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> table) {
        Map<String, INDArray> out = new java.util.HashMap<>();
        table.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    private static INDArray at(INDArray logits, int b, int t) {
        return logits.get(NDArrayIndex.point(b), NDArrayIndex.point(t), NDArrayIndex.all());
    }

    private static double crossEntropy(INDArray logits, int b, int t, int label) {
        double[] z = at(logits, b, t).toDoubleVector();
        double max = java.util.Arrays.stream(z).max().orElseThrow();
        double sum = java.util.Arrays.stream(z).map(v -> Math.exp(v - max)).sum();
        return Math.log(sum) + max - z[label];
    }
}
