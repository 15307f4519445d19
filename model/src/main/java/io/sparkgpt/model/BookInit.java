package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * The initialisation the book's GPTModel gets from PyTorch's module defaults, in place of GPT-2's
 * normal(0, 0.02) that {@link GptNetwork#build} uses:
 * <ul>
 *   <li>embeddings ({@code nn.Embedding}): normal(0, 1);</li>
 *   <li>linear weights and biases ({@code nn.Linear}): uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 *       fan_in being the layer's input width (Kaiming-uniform with a = sqrt(5));</li>
 *   <li>LayerNorm: scale 1, shift 0.</li>
 * </ul>
 * It matters for the book's chapter-5 run, which trains without warmup or clipping: with GPT-2's
 * init the same run stalls near the unigram loss (~6) for dozens of steps, in PyTorch as here.
 */
public final class BookInit {
    private BookInit() {
    }

    /** Re-initialises every parameter of a network built by {@link GptNetwork}, drawing from {@code seed}. */
    public static void apply(ComputationGraph net, long seed) {
        GptConfig c = GptNetwork.config(net);
        Map<String, INDArray> params = net.getLayer(GptNetwork.LAYER).paramTable();
        Random random = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        for (GptParams.Spec s : GptParams.specs(c)) { // spec order: a seed gives the same weights anywhere
            INDArray p = params.get(s.name());
            Long fanIn = linearFanIn(s.name(), c);
            if (s.init() == GptParams.Init.ONES) {
                p.assign(1);                                   // LayerNorm scale
            } else if (fanIn != null) {
                p.assign(uniform(p, fanIn, random));           // linear weight or bias
            } else if (s.init() == GptParams.Init.NORMAL) {
                p.assign(Nd4j.randn(p.shape(), random));       // embedding
            } else {
                p.assign(0);                                   // LayerNorm shift
            }
        }
        Nd4j.getExecutioner().commit();
    }

    /** uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)) in p's shape. */
    private static INDArray uniform(INDArray p, long fanIn, Random random) {
        double bound = 1.0 / Math.sqrt(fanIn);
        return Nd4j.rand(p.shape(), -bound, bound, random);
    }

    /**
     * The input width of the linear layer parameter NAME belongs to, or null for embeddings and
     * LayerNorm parameters. Block weights are [in, out]; the head is [vocab, emb].
     */
    static Long linearFanIn(String name, GptConfig c) {
        long e = c.embDim();
        if (name.equals(GptParams.HEAD)) {
            return e;
        }
        if (name.matches("h\\d+(attnW|attnB|projW|projB|fcW|fcB)")) {
            return e;
        }
        if (name.matches("h\\d+fc2[WB]")) {
            return 4 * e;
        }
        return null;
    }
}
