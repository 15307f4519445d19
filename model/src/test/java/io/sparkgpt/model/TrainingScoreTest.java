package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.samediff.SameDiffOutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The score of a fit step comes from its gradient pass (no second forward pass), is that pass's
 * loss, and is finite for huge logits. SGD at rate 0 keeps the parameters for comparisons.
 */
class TrainingScoreTest {

    private static final DataSet BATCH = new DataSet(
            Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}),
            Nd4j.createFromArray(new float[][] {{2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17}}));

    /** Counts the ops the layer's SameDiff graph runs in forward-only (INFERENCE) passes. */
    private static AtomicInteger countForwardOps(ComputationGraph net) throws ReflectiveOperationException {
        Field f = SameDiffOutputLayer.class.getDeclaredField("sameDiff");
        f.setAccessible(true);
        SameDiff sd = (SameDiff) f.get(net.getLayer(GptNetwork.LAYER));
        AtomicInteger count = new AtomicInteger();
        sd.addListeners(new BaseListener() {
            @Override
            public boolean isActive(Operation operation) {
                return true;
            }

            @Override
            public void opExecution(SameDiff s, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx,
                                    INDArray[] out) {
                if (at.operation() == Operation.INFERENCE) {
                    count.incrementAndGet();
                }
            }
        });
        return count;
    }

    @Test
    void fitScoresInItsGradientPassWithoutAForwardPass() throws ReflectiveOperationException {
        GptConfig c = new GptConfig(50, 8, 16, 2, 2, 0.1, false);
        ComputationGraph net = GptNetwork.build(c, 3, new Sgd(0.0), 0.0, DataType.FLOAT);
        GptNetwork.setDropoutSeed(net, 5);
        net.fit(BATCH);                                                              // builds the graphs
        AtomicInteger forwardOps = countForwardOps(net);
        net.fit(BATCH);
        double fitScore = net.score();
        // DL4J's own SameDiffOutputLayer runs ~190 forward ops here to score.
        assertEquals(0, forwardOps.get(), "forward-only ops run by fit");
        double scorePass = net.score(BATCH, true);                                   // same masks and parameters
        assertTrue(forwardOps.get() > 100, "score(data) runs the forward graph: " + forwardOps.get() + " ops");
        assertEquals(scorePass, fitScore, 1e-6 * scorePass, "fit score vs score pass");
    }

    @Test
    void fitScoreOfHugeLogitsIsFinite() {
        GptConfig c = new GptConfig(50, 8, 16, 2, 2, 0.0, false);
        ComputationGraph net = GptNetwork.build(c, 3, new Sgd(0.0), 0.0, DataType.FLOAT);
        net.params().muli(25);                                                      // logit gaps > 104 (StableLossTest)
        net.fit(BATCH);
        double expected = GptNetwork.loss(net, BATCH.getFeatures(), BATCH.getLabels());
        assertTrue(Double.isFinite(net.score()), "fit score " + net.score());
        assertEquals(expected, net.score(), 1e-4 * expected, "fit score vs inference loss");
    }
}
