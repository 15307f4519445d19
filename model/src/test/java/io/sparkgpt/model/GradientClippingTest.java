package io.sparkgpt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Global-norm gradient clipping (nanoGPT's grad_clip): with SGD at learning rate 1 the parameter
 * change is the (batch-mean) gradient itself, so its norm shows what the clipping did.
 */
class GradientClippingTest {

    private static final GptConfig CONFIG = new GptConfig(50, 8, 16, 2, 2, 0.0, false);
    private static final DataSet BATCH = new DataSet(
            Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}),
            Nd4j.createFromArray(new float[][] {{2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17}}));

    /** The parameter change of one SGD(lr 1) step from the same initial weights. */
    private static INDArray step(double gradClip) {
        ComputationGraph net = GptNetwork.build(CONFIG, 3, new Sgd(1.0), 0.0, gradClip, DataType.FLOAT);
        net.params().muli(5);                                                        // raw gradient norm ~24
        INDArray before = net.params().dup();
        net.fit(BATCH);
        return net.params().sub(before);
    }

    @Test
    void clippedStepHasTheThresholdNormAndTheUnclippedDirection() {
        INDArray raw = step(0.0);
        INDArray clipped = step(1.0);
        INDArray loose = step(1e3);
        double rawNorm = raw.norm2Number().doubleValue();
        double clippedNorm = clipped.norm2Number().doubleValue();
        assertTrue(rawNorm > 2.0, "the raw gradient norm must exceed the threshold, was " + rawNorm);
        assertTrue(clippedNorm <= 1.0 + 1e-4, "clipped step norm " + clippedNorm);
        assertEquals(1.0, clippedNorm, 1e-4, "scaled down to the threshold, not below");
        double cosine = raw.mul(clipped).sumNumber().doubleValue() / (rawNorm * clippedNorm);
        assertEquals(1.0, cosine, 1e-5, "one global scale, not per-element or per-parameter clipping");
        assertEquals(0.0, raw.sub(loose).amaxNumber().doubleValue(), 0.0, "a threshold above the norm changes nothing");
    }

    /** dl4j-spark ships the configuration to executors as JSON: the clipping must survive it. */
    @Test
    void clippingSurvivesTheConfigurationJson() {
        ComputationGraph net = GptNetwork.build(CONFIG, 3, new Sgd(1.0), 0.0, 0.5, DataType.FLOAT);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        BaseLayer layer = (BaseLayer) ((LayerVertex) back.getVertices().get(GptNetwork.LAYER))
                .getLayerConf().getLayer();
        assertEquals(GradientNormalization.ClipL2PerLayer, layer.getGradientNormalization());
        assertEquals(0.5, layer.getGradientNormalizationThreshold(), 0.0);
        assertEquals("gradClip -1.0 must be >= 0 (0 = off)", assertThrows(IllegalArgumentException.class,
                () -> GptNetwork.build(CONFIG, 3, new Sgd(1.0), 0.0, -1.0, DataType.FLOAT)).getMessage());
    }
}
