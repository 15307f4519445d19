package io.sparkgpt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptNetworkTest {

    @ParameterizedTest(name = "{0} tied={1} position={2}")
    @CsvSource({
            "tiny, false, LEARNED", "tiny, true, LEARNED", "tiny, false, SINUSOIDAL", "tiny, true, SINUSOIDAL",
            "mini, false, LEARNED", "mini, true, LEARNED", "mini, false, SINUSOIDAL", "mini, true, SINUSOIDAL",
    })
    void builtNetworkHasExactlyTheFormulasParameters(String preset, boolean tied, GptConfig.Position position) {
        GptConfig c = GptConfig.preset(preset).withTieWeights(tied).withPosition(position);
        ComputationGraph net = GptNetwork.build(c, 1, new NoOp());
        assertEquals(c.parameterCount(), net.numParams(), c.toJson());
        assertEquals(c.parameterCount(),
                GptParams.specs(c).stream().mapToLong(GptParams.Spec::length).sum(), "GptParams specs");
    }

    @Test
    void initialisationFollowsGpt2AndTheSeed() {
        GptConfig c = GptConfig.preset("tiny");
        Map<String, INDArray> p = GptNetwork.build(c, 7, new NoOp()).getLayer(GptNetwork.LAYER).paramTable();
        double std = p.get("wte").stdNumber().doubleValue();
        assertEquals(0.02, std, 0.0005, "wte std");
        assertEquals(0.0, p.get("wte").meanNumber().doubleValue(), 0.0005, "wte mean");
        assertEquals(0.02, p.get("h1fcW").stdNumber().doubleValue(), 0.001, "h1fcW std");
        assertEquals(1.0, p.get("h0ln1G").minNumber().doubleValue(), 0.0, "LayerNorm scale starts at 1");
        assertEquals(0.0, p.get("h0projB").amaxNumber().doubleValue(), 0.0, "biases start at 0");

        INDArray same = GptNetwork.build(c, 7, new NoOp()).params();
        INDArray other = GptNetwork.build(c, 8, new NoOp()).params();
        assertEquals(GptNetwork.build(c, 7, new NoOp()).params(), same, "same seed, same weights");
        assertNotEquals(same, other, "another seed, other weights");
    }

    /** dl4j-spark ships the configuration to executors as JSON: it must come back equal and usable. */
    @Test
    void configurationSurvivesJsonLikeSparkShipsIt() {
        GptConfig c = new GptConfig(11, 4, 8, 2, 1, 0.1, true, true, GptConfig.Position.SINUSOIDAL);
        ComputationGraph net = GptNetwork.build(c, 3);
        String json = net.getConfiguration().toJson();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(json, back.toJson());
        ComputationGraph copy = new ComputationGraph(back);
        copy.init(net.params().dup(), false);
        assertEquals(c, GptNetwork.config(copy));
        INDArray tokens = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4}});
        assertEquals(GptNetwork.logits(net, tokens), GptNetwork.logits(copy, tokens));
    }

    @Test
    void logitsHaveShapeBatchTimeVocabForAnyLengthUpToContext() {
        GptConfig c = new GptConfig(11, 4, 8, 2, 1, 0.0, false);
        ComputationGraph net = GptNetwork.build(c, 3);
        for (int t = 1; t <= 4; t++) {
            INDArray tokens = Nd4j.zeros(DataType.FLOAT, 2, t);
            assertArrayEquals(new long[] {2, t, 11}, GptNetwork.logits(net, tokens).shape(), "T=" + t);
        }
        assertEquals("sequence length 5 exceeds context_length 4", assertThrows(IllegalArgumentException.class,
                () -> GptNetwork.logits(net, Nd4j.zeros(DataType.FLOAT, 1, 5))).getMessage());
        assertEquals("token id 11 at [0, 1] is outside the vocabulary [0, 11)", assertThrows(IllegalArgumentException.class,
                () -> GptNetwork.logits(net, Nd4j.createFromArray(new float[][] {{0, 11}}))).getMessage());
    }

    @Test
    void untrainedLossIsNearLogVocab() {
        GptConfig c = GptConfig.preset("tiny");
        ComputationGraph net = GptNetwork.build(c, 5);
        INDArray x = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}});
        INDArray y = x.add(100);
        double loss = GptNetwork.loss(net, x, y);
        assertTrue(Math.abs(loss - Math.log(c.vocabSize())) < 0.05, "loss " + loss + " vs ln(vocab) "
                + Math.log(c.vocabSize()));
    }
}
