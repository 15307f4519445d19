package io.sparkgpt.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.Map;

/**
 * One pre-LayerNorm transformer block of the book (listing 4.6):
 * x + drop(attn(LN1(x))), then x + drop(ffn(LN2(x))).
 *
 * <p>Activations are kept as [batch*T, emb] rows between the matmuls so every projection is one
 * 2-D GEMM; only attention reshapes to [batch, n_heads, T, head_dim].
 */
final class TransformerBlock {

    private final SameDiff sd;
    private final GptConfig c;
    private final Map<String, SDVariable> p;
    private final Dims dims;
    private final boolean training;

    /** Dynamic sizes of the current input: batch and T are only known when data arrives. */
    record Dims(SDVariable batch, SDVariable time, SDVariable heads, SDVariable headDim,
                SDVariable emb, SDVariable causalMask) {
    }

    TransformerBlock(SameDiff sd, GptConfig c, Map<String, SDVariable> params, Dims dims, boolean training) {
        this.sd = sd;
        this.c = c;
        this.p = params;
        this.dims = dims;
        this.training = training;
    }

    /** x [batch*T, emb] -> [batch*T, emb] for block i. */
    SDVariable apply(int i, SDVariable x) {
        SDVariable a = GraphOps.layerNorm(sd, x, param(i, "ln1G"), param(i, "ln1B"));
        x = x.add(GraphOps.dropout(sd, attention(i, a), c.dropRate(), training));
        SDVariable f = GraphOps.layerNorm(sd, x, param(i, "ln2G"), param(i, "ln2B"));
        return x.add(GraphOps.dropout(sd, feedForward(i, f), c.dropRate(), training));
    }

    /** emb -> 4*emb -> GELU -> emb. x [rows, emb]. */
    private SDVariable feedForward(int i, SDVariable x) {
        SDVariable h = GraphOps.linear(sd, x, param(i, "fcW"), param(i, "fcB"));   // [rows, 4*emb]
        return GraphOps.linear(sd, GraphOps.gelu(sd, h), param(i, "fc2W"), param(i, "fc2B"));
    }

    /**
     * Causal multi-head self-attention. Q, K and V come from one fused [emb, 3*emb] projection
     * (one GEMM instead of three; the same numbers as the book's three Linear layers, and the
     * layout of GPT-2's c_attn).
     */
    private SDVariable attention(int i, SDVariable x) {
        SDVariable bias = c.qkvBias() ? param(i, "attnB") : null;
        SDVariable qkv = GraphOps.linear(sd, x, param(i, "attnW"), bias);           // [rows, 3*emb]
        SDVariable[] parts = sd.split(qkv, 3, 1);                                    // 3 x [rows, emb]
        SDVariable q = toHeads(parts[0]);                                            // [batch, n_heads, T, head_dim]
        SDVariable k = toHeads(parts[1]);
        SDVariable v = toHeads(parts[2]);
        SDVariable scores = sd.mmul(q, k, false, true, false)                      // [batch, n_heads, T, T]
                .mul(1.0 / Math.sqrt(c.headDim()))
                .add(dims.causalMask());                                            // -1e9 above the diagonal
        SDVariable weights = sd.nn.softmax(scores, -1);
        weights = GraphOps.dropout(sd, weights, c.dropRate(), training);
        SDVariable context = sd.mmul(weights, v);                                   // [batch, n_heads, T, head_dim]
        SDVariable rows = sd.reshape(sd.permute(context, 0, 2, 1, 3),              // [batch, T, n_heads, head_dim]
                sd.stack(0, GraphOps.longConst(sd, -1), dims.emb()));              // [rows, emb]
        return GraphOps.linear(sd, rows, param(i, "projW"), param(i, "projB"));
    }

    /** [batch*T, emb] -> [batch, n_heads, T, head_dim]. */
    private SDVariable toHeads(SDVariable x) {
        SDVariable shape = GraphOps.shapeOf(sd, dims.batch(), dims.time(), dims.heads(), dims.headDim());
        return sd.permute(sd.reshape(x, shape), 0, 2, 1, 3);
    }

    private SDVariable param(int i, String name) {
        SDVariable v = p.get(GptParams.block(i, name));
        if (v == null) {
            throw new IllegalStateException("missing parameter " + GptParams.block(i, name));
        }
        return v;
    }
}
