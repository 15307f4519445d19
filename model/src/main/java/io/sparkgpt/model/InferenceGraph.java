package io.sparkgpt.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A dropout-free SameDiff copy of the GPT's forward pass whose variables are the network's own
 * parameter arrays (views into its flat parameter vector, so training updates are seen without
 * copying).
 *
 * <p>Why not net.output(): DL4J's SameDiffOutputLayer does not tell the graph whether it is
 * training, so its graph always applies dropout, and it fixes T at the first call. This graph
 * has no dropout and accepts any T.
 */
final class InferenceGraph {

    private static final String EMBEDDED = "embedded";

    private final GptConfig config;
    private final SameDiff sd;
    private final Map<String, INDArray> boundParams;
    private final DataType dtype;

    InferenceGraph(GptConfig c, Map<String, INDArray> params) {
        this.config = c;
        this.boundParams = new HashMap<>(params);
        this.dtype = params.get(GptParams.TOKEN_EMBEDDING).dataType();
        this.sd = SameDiff.create();
        // The default (thread-safe) holders copy arrays per thread, which would freeze the weights
        // at build time; single-thread holders keep the network's own views. Calls are synchronized.
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
        SDVariable embedded = sd.placeHolder(EMBEDDED, dtype, -1, -1, c.embDim());  // [batch, T, emb]
        Map<String, SDVariable> vars = new LinkedHashMap<>();
        for (GptParams.Spec s : GptParams.specs(c)) {
            if (!GptParams.inGraph(c, s.name())) {
                continue;
            }
            SDVariable v = sd.var(s.name(), dtype, s.shape());
            sd.associateArrayWithVariable(params.get(s.name()), v);
            vars.put(s.name(), v);
        }
        SDVariable rows = GptGraph.logitsRows(sd, embedded, vars, c, false);        // [batch*T, vocab]
        GptGraph.unflatten(sd, GptLayer.LOGITS, rows, embedded, c);                 // [batch, T, vocab]
    }

    /** True while the network still holds the very arrays this graph was built on. */
    boolean isBoundTo(Map<String, INDArray> params) {
        if (params.size() != boundParams.size()) {
            return false;
        }
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            if (boundParams.get(e.getKey()) != e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** tokens [batch, T] -> logits [batch, T, vocab]. */
    synchronized INDArray logits(INDArray tokens) {
        Map<String, INDArray> ph = Map.of(EMBEDDED, Embeddings.embed(config, boundParams, tokens));
        return sd.outputSingle(ph, GptLayer.LOGITS).detach();
    }

    /**
     * Mean next-token cross-entropy over all batch*T positions, finite for any finite logits
     * ({@link CrossEntropy}: the graph's fused op would return Infinity for very large logits).
     */
    synchronized double loss(INDArray inputs, INDArray targets) {
        INDArray logits = logits(inputs);                                           // [batch, T, vocab], ours
        long rows = inputs.length();
        return CrossEntropy.sumInPlace(logits.reshape(rows, config.vocabSize()), targets) / rows;
    }
}
