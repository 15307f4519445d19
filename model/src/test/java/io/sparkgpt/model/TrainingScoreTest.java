package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The score of a fit step is the loss of its gradient pass (the engine computes both in one pass),
 * and is finite for huge logits. SGD at rate 0 keeps the parameters for comparisons.
 */
class TrainingScoreTest {

    private static final DataSet BATCH = new DataSet(
            Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}),
            Nd4j.createFromArray(new float[][] {{2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17}}));

    @Test
    void fitScoreIsTheLossOfItsGradientPassWithTheSameDropoutMasks() {
        GptConfig c = new GptConfig(50, 8, 16, 2, 2, 0.1, false);
        ComputationGraph net = GptNetwork.build(c, 3, new Sgd(0.0), 0.0, DataType.FLOAT);
        GptNetwork.setDropoutSeed(net, 5);
        net.fit(BATCH);
        double fitScore = net.score();
        double scorePass = net.score(BATCH, true);                                   // same masks and parameters
        assertEquals(scorePass, fitScore, 1e-6 * scorePass, "fit score vs score pass");
        double noDropout = GptNetwork.loss(net, BATCH.getFeatures(), BATCH.getLabels());
        assertTrue(Math.abs(noDropout - fitScore) > 1e-4, "dropout must change the training loss: " + noDropout);
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
