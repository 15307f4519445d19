package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Decoupled weight decay (nanoGPT's AdamW groups): one SGD step with decay differs from the same
 * step without it by exactly -lr * wd * the initial value on matrices and embeddings, and by 0
 * on biases and LayerNorm parameters. DL4J 1.0.0-M2.1 would apply a global decay twice to a
 * BaseLayer (GptLayer.setRegularization).
 */
class WeightDecayTest {

    private static final GptConfig CONFIG = new GptConfig(50, 8, 16, 2, 2, 0.0, true);
    private static final DataSet BATCH = new DataSet(
            Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}),
            Nd4j.createFromArray(new float[][] {{2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17}}));

    private static ComputationGraph stepped(double weightDecay) {
        ComputationGraph net = GptNetwork.build(CONFIG, 3, new Sgd(0.5), weightDecay, DataType.FLOAT);
        net.fit(BATCH);
        return net;
    }

    @Test
    void decayIsAppliedOnceAndOnlyToMatricesAndEmbeddings() {
        ComputationGraph initial = GptNetwork.build(CONFIG, 3, new Sgd(0.5), 0.0, DataType.FLOAT);
        Map<String, INDArray> start = initial.getLayer(GptNetwork.LAYER).paramTable();
        Map<String, INDArray> decayed = stepped(0.1).getLayer(GptNetwork.LAYER).paramTable();
        Map<String, INDArray> plain = stepped(0.0).getLayer(GptNetwork.LAYER).paramTable();
        for (GptParams.Spec s : GptParams.specs(CONFIG)) {
            INDArray expected = !s.decayed() ? start.get(s.name()).mul(0) : start.get(s.name()).mul(-0.5 * 0.1);
            INDArray actual = decayed.get(s.name()).sub(plain.get(s.name()));
            assertEquals(0, actual.sub(expected).amaxNumber().doubleValue(), 1e-6, s.name());
        }
    }

    @Test
    void scoreIsTheCrossEntropyWithoutADecayPenalty() {
        ComputationGraph decayed = GptNetwork.build(CONFIG, 3, new Sgd(0.5), 0.1, DataType.FLOAT);
        double crossEntropy = GptNetwork.loss(decayed, BATCH.getFeatures(), BATCH.getLabels());
        assertEquals(crossEntropy, decayed.score(BATCH), 1e-6);
        decayed.fit(BATCH);
        ComputationGraph plain = GptNetwork.build(CONFIG, 3, new Sgd(0.5), 0.0, DataType.FLOAT);
        plain.fit(BATCH);
        assertEquals(plain.score(), decayed.score(), 1e-6, "fit scores of one step from equal weights");
    }
}
