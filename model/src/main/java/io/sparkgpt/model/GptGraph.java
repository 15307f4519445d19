package io.sparkgpt.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Map;

/**
 * The GPT forward pass of the book (listing 4.7) after the embedding lookup, as a SameDiff graph:
 * dropout, n_layers blocks, final LayerNorm, linear head without bias (x · wte^T when tied); and
 * the mean next-token cross-entropy. The lookup itself is in {@link Embeddings}.
 *
 * <p>The same definition serves DL4J's training layer ({@link GptLayer}) and the inference graph
 * of {@link GptNetwork}; only {@code training} (dropout on/off) differs. Batch and T are read
 * from the input at run time, so one graph serves every T up to context_length.
 */
final class GptGraph {

    /** Added to attention scores above the diagonal; exp(-1e9) underflows to exactly 0. */
    static final double MASK_VALUE = -1e9;

    private GptGraph() {
    }

    /** embedded [batch, T, emb] (token + position embedding) -> logits [batch*T, vocab]. */
    static SDVariable logitsRows(SameDiff sd, SDVariable embedded, Map<String, SDVariable> p,
                                 GptConfig c, boolean training) {
        TransformerBlock.Dims dims = dims(sd, embedded, c);
        SDVariable x = sd.reshape(embedded, GraphOps.shapeOf(sd, GraphOps.longConst(sd, -1), dims.emb()));
        x = GraphOps.dropout(sd, x, c.dropRate(), training);                         // [batch*T, emb]
        TransformerBlock block = new TransformerBlock(sd, c, p, dims, training);
        for (int i = 0; i < c.nLayers(); i++) {
            x = block.apply(i, x);
        }
        x = GraphOps.layerNorm(sd, x, p.get(GptParams.FINAL_NORM_SCALE), p.get(GptParams.FINAL_NORM_SHIFT));
        SDVariable head = p.get(c.tieWeights() ? GptParams.TOKEN_EMBEDDING : GptParams.HEAD);  // [vocab, emb]
        return sd.mmul(x, head, false, true, false);                                  // [batch*T, vocab]
    }

    /** logits [batch*T, vocab] -> [batch, T, vocab], batch and T taken from embedded [batch, T, emb]. */
    static SDVariable unflatten(SameDiff sd, String name, SDVariable logitsRows, SDVariable embedded, GptConfig c) {
        SDVariable frozen = GraphOps.stopGradient(sd, embedded);
        SDVariable shape = GraphOps.shapeOf(sd, sd.sizeAt(frozen, 0), sd.sizeAt(frozen, 1),
                GraphOps.longConst(sd, c.vocabSize()));
        return sd.reshape(name, logitsRows, shape);
    }

    /**
     * Sum over the batch of each sequence's mean next-token cross-entropy; targets [batch, T] ids as
     * floats. DL4J divides an output layer's score and gradients by the batch size, which makes
     * this the book's mean cross-entropy over all batch*T tokens.
     *
     * <p>Gradient caveat: ND4J 1.0.0-M2.1's sparse softmax cross-entropy ignores the gradient
     * arriving from above (its backprop op is not given it), so the division by T changes the
     * value but not the gradient: SameDiff returns d(sum of per-token losses)/dθ, T times the
     * gradient of this value. {@link GptLayerImpl} divides by T (measured; GradientCheckTest
     * guards it). Doing it here instead would cost extra [batch*T, vocab] arrays.
     *
     * <p>Value caveat: the op computes -log(softmax), which is Infinity once a target's logit is
     * ~104 below its row max (float underflow); its gradient stays right. Fit scores and the inference
     * loss come from {@link CrossEntropy} instead; score-only passes use this value and fall back to
     * CrossEntropy when it is not finite (see GptLayerImpl).
     */
    static SDVariable lossSumOverBatch(SameDiff sd, SDVariable logitsRows, SDVariable targets) {
        SDVariable ids = sd.castTo(sd.reshape(targets, -1), DataType.INT);         // [batch*T]
        SDVariable perToken = sd.loss.sparseSoftmaxCrossEntropy(logitsRows, ids);  // [batch*T]
        SDVariable time = sd.castTo(sd.sizeAt(targets, 1), logitsRows.dataType());
        return sd.sum(perToken).div(time);
    }

    private static TransformerBlock.Dims dims(SameDiff sd, SDVariable embedded, GptConfig c) {
        SDVariable frozen = GraphOps.stopGradient(sd, embedded);
        SDVariable time = sd.sizeAt(frozen, 1);
        return new TransformerBlock.Dims(sd.sizeAt(frozen, 0), time, GraphOps.longConst(sd, c.nHeads()),
                GraphOps.longConst(sd, c.headDim()), GraphOps.longConst(sd, c.embDim()),
                causalMask(sd, time, embedded.dataType()));
    }

    /** [T, T]: 0 on and below the diagonal, -1e9 above it (key position > query position). */
    private static SDVariable causalMask(SameDiff sd, SDVariable time, DataType dtype) {
        SDVariable positions = sd.range(GraphOps.longConst(sd, 0), time, GraphOps.longConst(sd, 1), dtype);
        SDVariable query = sd.expandDims(positions, 1);                               // [T, 1]
        SDVariable key = sd.expandDims(positions, 0);                                 // [1, T]
        return sd.castTo(sd.gt(key, query), dtype).mul(MASK_VALUE);                   // [T, T]
    }
}
