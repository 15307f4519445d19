package io.sparkgpt.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Central differences in double precision against the analytic gradient DL4J trains with, for
 * every single parameter of a very small model (DL4J's GradientCheckUtil, all parameters, no
 * subset). The cases together cover every parameter group: wte (lookup, and lookup + tied head),
 * wpe, the LayerNorms, fused QKV with and without bias, output projection, both MLP layers,
 * final LayerNorm and the untied head; LLaMA's RMSNorms, q, k, v, o, gate, up and down.
 */
class GradientCheckTest {

    private DataType savedDefault;
    private DataType savedFloatDefault;

    /** GradientCheckUtil insists on ND4J's global default type being double as well. */
    @BeforeEach
    void doublePrecision() {
        savedDefault = Nd4j.dataType();
        savedFloatDefault = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterEach
    void restorePrecision() {
        Nd4j.setDefaultDataTypes(savedDefault, savedFloatDefault);
    }

    @ParameterizedTest(name = "tied={0} position={1} qkvBias={2}")
    @CsvSource({"false, LEARNED, true", "true, SINUSOIDAL, false"})
    void analyticGradientMatchesCentralDifferences(boolean tied, GptConfig.Position position, boolean qkvBias) {
        check(new GptConfig(11, 4, 8, 2, 1, 0.0, qkvBias, tied, position));
    }

    /** LLaMA: RMSNorms, q/k/v/o with rotary q and k, SwiGLU's gate/up/down, with and without grouped heads. */
    @ParameterizedTest(name = "llama kvHeads={0} tied={1}")
    @CsvSource({"1, false", "2, true"})
    void llamaAnalyticGradientMatchesCentralDifferences(int kvHeads, boolean tied) {
        check(new GptConfig(11, 4, 8, 2, 2, 0.0, false, tied, GptConfig.Position.ROTARY,
                new GptConfig.Llama(kvHeads, 12, 1e-5, 100)));
    }

    /**
     * A classifier (3 classes) scored at each sequence's last real token (lengths 4, 2, 3: the
     * other targets ignored), GPT-2 and LLaMA: the score head and every block still get gradient.
     */
    @ParameterizedTest(name = "classifier llama={0}")
    @CsvSource({"false", "true"})
    void classifierAnalyticGradientMatchesCentralDifferences(boolean llama) {
        GptConfig lm = llama ? new GptConfig(11, 4, 8, 2, 2, 0.0, false, false, GptConfig.Position.ROTARY,
                new GptConfig.Llama(1, 12, 1e-5, 100)) : new GptConfig(11, 4, 8, 2, 1, 0.0, true, false,
                GptConfig.Position.LEARNED);
        check(lm.asClassifier(3), new double[][] {{-1, -1, -1, 2}, {-1, 0, -1, -1}, {-1, -1, 1, -1}});
    }

    private static void check(GptConfig c) {
        check(c, new double[][] {{7, 3, 1, 4}, {7, 0, 10, 6}, {3, 9, 5, 8}});
    }

    private static void check(GptConfig c, double[][] targetIds) {
        ComputationGraph net = GptNetwork.build(c, 12345, new NoOp(), 0.0, DataType.DOUBLE);
        // Repeated ids (3, 7) check that the scatter-add accumulates; T=4 uses every position.
        INDArray tokens = Nd4j.createFromArray(new double[][] {{3, 7, 3, 1}, {7, 7, 0, 10}, {2, 3, 9, 5}});
        INDArray targets = Nd4j.createFromArray(targetIds);
        // Larger-than-GPT-2 weights so that attention is far from uniform and every term matters.
        net.params().assign(Nd4j.randn(DataType.DOUBLE, net.params().shape()).muli(0.5));

        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(net).inputs(new INDArray[] {tokens}).labels(new INDArray[] {targets})
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false).subset(false));
        assertTrue(ok, "gradient check failed for " + c.toJson());

        // A check over zero gradients proves nothing: every parameter group must receive gradient.
        net.setInputs(tokens);
        net.setLabels(targets);
        net.computeGradientAndScore();
        Map<String, INDArray> grads = net.gradient().gradientForVariable();
        for (GptParams.Spec s : GptParams.specs(c)) {
            INDArray g = grads.get(GptNetwork.LAYER + "_" + s.name());
            assertTrue(g != null && g.norm2Number().doubleValue() > 1e-6, "no gradient for " + s.name());
        }
        assertEquals(GptParams.specs(c).size(), grads.size(), "gradient entries " + grads.keySet());
    }
}
