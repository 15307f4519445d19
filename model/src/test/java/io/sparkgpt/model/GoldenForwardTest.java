package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass equals an independent implementation: logits and loss of the book's GPT in
 * PyTorch (src/test/python/make_golden.py, float64) for fixed random weights, to 1e-4, with the
 * float32 network the project trains; and LLaMA's, as Hugging Face's LlamaForCausalLM computes it.
 */
class GoldenForwardTest {

    @ParameterizedTest
    @ValueSource(strings = {"untied-learned-qkvbias", "tied-sinusoidal", "llama-gqa-untied", "llama-mha-tied"})
    void logitsAndLossMatchPyTorch(String name) {
        String dir = "/golden/" + name + "/";
        GptConfig c = GptConfig.fromJson(GoldenFiles.text(dir + "config.json"));
        Map<String, INDArray> weights = GoldenFiles.arrays(dir + "weights.txt");
        Map<String, INDArray> expected = GoldenFiles.arrays(dir + "expected.txt");

        ComputationGraph net = GptNetwork.build(c, 0);
        Map<String, INDArray> params = net.getLayer(GptNetwork.LAYER).paramTable();
        assertEquals(params.keySet(), weights.keySet(), "parameter names");
        weights.forEach((k, v) -> {
            assertArrayEquals(params.get(k).shape(), v.shape(), k);
            params.get(k).assign(v.castTo(DataType.FLOAT));
        });

        INDArray inputs = expected.get("inputs").castTo(DataType.FLOAT);
        INDArray targets = expected.get("targets").castTo(DataType.FLOAT);
        INDArray want = expected.get("logits");                                     // [batch, T, vocab]
        INDArray got = GptNetwork.logits(net, inputs).castTo(DataType.DOUBLE);
        assertArrayEquals(want.shape(), got.shape());
        double maxDiff = got.sub(want).amaxNumber().doubleValue();
        System.out.printf("GOLDEN %s: max |logit - pytorch| = %.3g%n", name, maxDiff);
        assertTrue(maxDiff < 1e-4, "max |logit - pytorch| = " + maxDiff);
        assertTrue(want.amaxNumber().doubleValue() > 1.0, "golden logits are not trivially small");

        double wantLoss = expected.get("loss").getDouble(0);
        assertEquals(wantLoss, GptNetwork.loss(net, inputs, targets), 1e-4, "inference loss");
        // The DL4J training path (drop_rate 0 here) must compute the same mean cross-entropy.
        assertEquals(wantLoss, net.score(new DataSet(inputs, targets)), 1e-4, "DL4J score");
    }
}
