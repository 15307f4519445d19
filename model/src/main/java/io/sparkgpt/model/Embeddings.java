package io.sparkgpt.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Map;

/**
 * Token embedding + position encoding, computed with plain ND4J ops outside the SameDiff graph,
 * with its hand-written gradient.
 *
 * <p>Why outside: in ND4J 1.0.0-M2.1 the SameDiff gradient of {@code gather} is a while-loop over
 * the indices that fails or returns wrong values (measured: wrong sums, 2.6 s for 48 ids), and
 * SameDiff rebuilds ops by name when it makes the gradient function, so a gather subclass with
 * its own gradient is silently replaced. A one-hot [batch*T, vocab] matmul works but adds three
 * head-sized GEMMs per step (forward, and both operands' gradients). A row lookup's gradient is
 * simply a scatter-add of the row gradients (repeated ids accumulate), done here natively.
 */
final class Embeddings {

    private Embeddings() {
    }

    /** tokens [batch, T] (ids as floats) -> wte[ids] + position rows [batch, T, emb]. */
    static INDArray embed(GptConfig c, Map<String, INDArray> params, INDArray tokens) {
        long batch = tokens.size(0);
        int time = (int) tokens.size(1);
        INDArray wte = params.get(GptParams.TOKEN_EMBEDDING);                       // [vocab, emb]
        INDArray ids = ids(c, tokens);                                              // [batch*T]
        INDArray rows = Nd4j.create(wte.dataType(), ids.length(), c.embDim());      // [batch*T, emb]
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(wte, ids).addOutputs(rows)
                .addIntegerArguments(0).build());
        INDArray positions = positionRows(c, params, time, wte.dataType());        // [T, emb]
        rows.reshape(batch, (long) time * c.embDim()).addiRowVector(positions.reshape(1, (long) time * c.embDim()));
        return rows.reshape(batch, time, c.embDim());
    }

    /**
     * Gradients of the embedding parameters from dL/d(embed output) [batch, T, emb]:
     * wte[id] += row gradient for each token (added to what tgtWte already holds, e.g. the tied
     * head's gradient); wpe[t] = sum over the batch (rows beyond T get 0).
     */
    static void backprop(GptConfig c, INDArray tokens, INDArray dEmbedded, INDArray wteGrad, INDArray wpeGrad) {
        long batch = tokens.size(0);
        long time = tokens.size(1);
        INDArray rowGrads = dEmbedded.reshape(batch * time, c.embDim());            // [batch*T, emb]
        INDArray ids = ids(c, tokens);
        Nd4j.exec(DynamicCustomOp.builder("scatter_add").addInputs(wteGrad, ids, rowGrads)
                .addOutputs(wteGrad).build());
        if (wpeGrad != null) {
            wpeGrad.assign(0);
            wpeGrad.get(NDArrayIndex.interval(0, time), NDArrayIndex.all())
                    .assign(dEmbedded.sum(0));                                      // [T, emb]
        }
    }

    /** Flat int ids, each checked to be inside the vocabulary (a bad id would read out of bounds). */
    private static INDArray ids(GptConfig c, INDArray tokens) {
        INDArray ids = tokens.castTo(DataType.INT).reshape(tokens.length());
        int min = ids.minNumber().intValue();
        int max = ids.maxNumber().intValue();
        if (min < 0 || max >= c.vocabSize()) {
            throw new IllegalArgumentException("token ids must be in [0, " + c.vocabSize() + "), got range ["
                    + min + ", " + max + "]");
        }
        return ids;
    }

    /** The first T rows of the position table: the learned wpe or the fixed sinusoid. */
    private static INDArray positionRows(GptConfig c, Map<String, INDArray> params, int time, DataType dtype) {
        INDArray table = c.position() == GptConfig.Position.LEARNED
                ? params.get(GptParams.POSITION_EMBEDDING)
                : SinusoidalPositions.table(c.contextLength(), c.embDim(), dtype);
        return table.get(NDArrayIndex.interval(0, time), NDArrayIndex.all());
    }
}
