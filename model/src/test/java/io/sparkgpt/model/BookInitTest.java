package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The book's GPTModel starts from PyTorch's module defaults. */
class BookInitTest {

    private static Map<String, INDArray> bookParams(GptConfig c, long seed) {
        ComputationGraph net = GptNetwork.build(c, 1, new NoOp());
        BookInit.apply(net, seed);
        return net.getLayer(GptNetwork.LAYER).paramTable();
    }

    @Test
    void embeddingsAreStandardNormalAndLinearLayersUniformInOneOverRootFanIn() {
        GptConfig c = GptConfig.preset("tiny"); // emb 64: fan_in 64 for attn/proj/fc and the head, 256 for fc2
        Map<String, INDArray> p = bookParams(c, 123);
        assertEquals(1.0, p.get("wte").stdNumber().doubleValue(), 0.01, "wte std (nn.Embedding: normal(0, 1))");
        assertEquals(1.0, p.get("wpe").stdNumber().doubleValue(), 0.02, "wpe std");
        assertUniform(p.get("h0attnW"), 1 / Math.sqrt(64), "h0attnW");
        assertUniform(p.get("h1fcW"), 1 / Math.sqrt(64), "h1fcW");
        assertUniform(p.get("h1fc2W"), 1 / Math.sqrt(256), "h1fc2W");
        assertUniform(p.get("lmHead"), 1 / Math.sqrt(64), "lmHead");
        assertUniform(p.get("h0projB"), 1 / Math.sqrt(64), "h0projB (nn.Linear's bias is uniform too)");
        assertUniform(p.get("h0fc2B"), 1 / Math.sqrt(256), "h0fc2B");
        assertEquals(1.0, p.get("h0ln1G").minNumber().doubleValue(), 0.0, "LayerNorm scale 1");
        assertEquals(1.0, p.get("lnfG").maxNumber().doubleValue(), 0.0, "LayerNorm scale 1");
        assertEquals(0.0, p.get("h0ln2B").amaxNumber().doubleValue(), 0.0, "LayerNorm shift 0");
    }

    @Test
    void theSeedDecidesTheWeights() {
        GptConfig c = GptConfig.preset("tiny");
        INDArray a = GptNetwork.build(c, 1, new NoOp()).params();
        assertEquals(flat(bookParams(c, 5)), flat(bookParams(c, 5)), "same seed, same weights");
        assertNotEquals(flat(bookParams(c, 5)), flat(bookParams(c, 6)), "another seed, other weights");
        assertNotEquals(a, flat(bookParams(c, 5)), "not GPT-2's init");
    }

    private static INDArray flat(Map<String, INDArray> p) {
        return org.nd4j.linalg.factory.Nd4j.toFlattened(p.get("wte"), p.get("h0attnW"), p.get("h0fcB"), p.get("lmHead"));
    }

    /** Within (-bound, bound), and spread over it: std of a uniform is bound / sqrt(3). */
    private static void assertUniform(INDArray x, double bound, String name) {
        assertTrue(x.amaxNumber().doubleValue() <= bound, name + " within " + bound + ": " + x.amaxNumber());
        assertTrue(x.amaxNumber().doubleValue() > 0.9 * bound, name + " reaches near " + bound + ": " + x.amaxNumber());
        double n = x.length(); // tolerances: 4 standard errors of a sample of n
        assertEquals(bound / Math.sqrt(3), x.stdNumber().doubleValue(), 4 * 0.26 * bound / Math.sqrt(n), name + " std");
        assertEquals(0.0, x.meanNumber().doubleValue(), 4 * bound / Math.sqrt(3 * n), name + " mean");
    }
}
