package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.engine.Blas.Mat;

/**
 * One LLaMA decoder layer (Hugging Face's LlamaDecoderLayer), forward and backward:
 * mid = x + drop(o(attn(rope(q, k), v))) with q, k, v = RMSNorm1(x) [Wq | Wk | Wv];
 * out = mid + drop(down(silu(gate(n)) * up(n))), n = RMSNorm2(mid). No biases. The dropout
 * sites are the GPT's (see {@link GptEngine}); with drop_rate 0, LLaMA's own, there are none.
 * The MLP's pre-activations keep gate in the first rows*I elements of fcPre, up in the next.
 */
final class LlamaBlocks {

    private LlamaBlocks() {
    }

    static void forward(GptEngine engine, int l, Tensors p) {
        GptConfig c = engine.config();
        Activations a = engine.acts();
        int e = c.embDim();
        int n = a.rows;
        int hidden = c.hiddenDim();
        double eps = c.llama().rmsNormEps();
        Dropout drop = engine.dropout();
        LlamaKernels.rmsNorm(a.ln1[l], a.residual[l], n, e, p.block(l, "attnNorm"), eps, a.ln1Rstd[l]);
        projectQkv(c, a.qkv[l], 0, a.ln1[l], n, p.block(l, "qW"), p.block(l, "kW"), p.block(l, "vW"));
        engine.rotary().apply(a.qkv[l], n, a.time, 0, c.qkvWidth(), e, c.nHeads(), c.kvHeads(), false);
        a.attention.forward(a.attnOut[l], a.qkv[l], a.probs[l], drop, engine.siteKey(1 + 3 * l),
                engine.firstProbability());
        Blocks.residualBranch(a.residualMid[l], a.residual[l], a.attnOut[l], n, e, e, p.block(l, "oW"), null, drop,
                engine.siteKey(2 + 3 * l), engine.firstElement(e));

        LlamaKernels.rmsNorm(a.ln2[l], a.residualMid[l], n, e, p.block(l, "mlpNorm"), eps, a.ln2Rstd[l]);
        Buf gate = a.fcPre[l];
        Buf up = a.fcPre[l].slice(n * hidden);
        Blocks.linear(gate, a.ln2[l], n, e, hidden, p.block(l, "gateW"), null);
        Blocks.linear(up, a.ln2[l], n, e, hidden, p.block(l, "upW"), null);
        LlamaKernels.swiglu(a.activation, gate, up, n * hidden);
        Blocks.residualBranch(a.residual[l + 1], a.residualMid[l], a.activation, n, hidden, e, p.block(l, "downW"),
                null, drop, engine.siteKey(3 + 3 * l), engine.firstElement(e));
    }

    /** qkv [n, C + 2KV] from row offset {@code at} = norm [n, C] times Wq, Wk and Wv, each into its columns. */
    static void projectQkv(GptConfig c, Buf qkv, int at, Buf norm, int n, Buf q, Buf k, Buf v) {
        int e = c.embDim();
        int kv = c.kvHeads() * c.headDim();
        int ld = c.qkvWidth();
        Mat in = Mat.of(norm, 0, e);
        Blas.gemm(false, false, n, e, e, 1, in, Mat.of(q, 0, e), 0, Mat.of(qkv, at, ld));
        Blas.gemm(false, false, n, kv, e, 1, in, Mat.of(k, 0, kv), 0, Mat.of(qkv, at + e, ld));
        Blas.gemm(false, false, n, kv, e, 1, in, Mat.of(v, 0, kv), 0, Mat.of(qkv, at + e + kv, ld));
    }

    /** On entry a.dResidual = dL/d(out of layer l); on exit dL/d(x), layer l's input. */
    static void backward(GptEngine engine, int l, Tensors p, Tensors g) {
        GptConfig c = engine.config();
        Activations a = engine.acts();
        int e = c.embDim();
        int n = a.rows;
        int hidden = c.hiddenDim();
        Dropout drop = engine.dropout();

        Blocks.maskedCopy(a.dBranch, a.dResidual, n * e, drop, engine.siteKey(3 + 3 * l), engine.firstElement(e));
        Buf gate = a.fcPre[l];
        Buf up = a.fcPre[l].slice(n * hidden);
        LlamaKernels.swiglu(a.activation, gate, up, n * hidden);                    // recomputed, not kept
        Blocks.linearBackward(a.dActivation, g.block(l, "downW"), null, a.dBranch, a.activation, p.block(l, "downW"),
                n, hidden, e);
        Buf dGate = a.dFc;
        Buf dUp = a.dFc.slice(n * hidden);
        LlamaKernels.swigluBackward(dGate, dUp, a.dActivation, gate, up, n * hidden);
        inputGradient(a.dNorm, a.ln2[l], n, e, new Buf[] {dGate, dUp}, new int[] {0, 0}, hidden,
                new Buf[] {p.block(l, "gateW"), p.block(l, "upW")}, new Buf[] {g.block(l, "gateW"), g.block(l, "upW")},
                new int[] {hidden, hidden});
        LlamaKernels.rmsNormBackward(a.dResidual, g.block(l, "mlpNorm"), a.dNorm, a.residualMid[l],
                p.block(l, "mlpNorm"), a.ln2Rstd[l], n, e);

        Blocks.maskedCopy(a.dBranch, a.dResidual, n * e, drop, engine.siteKey(2 + 3 * l), engine.firstElement(e));
        Blocks.linearBackward(a.dAttnOut, g.block(l, "oW"), null, a.dBranch, a.attnOut[l], p.block(l, "oW"), n, e, e);
        a.attention.backward(a.dQkv, a.dAttnOut, a.qkv[l], a.probs[l], drop, engine.siteKey(1 + 3 * l),
                engine.firstProbability());
        engine.rotary().apply(a.dQkv, n, a.time, 0, c.qkvWidth(), e, c.nHeads(), c.kvHeads(), true);
        int kv = c.kvHeads() * c.headDim();
        inputGradient(a.dNorm, a.ln1[l], n, e, new Buf[] {a.dQkv, a.dQkv, a.dQkv}, new int[] {0, e, e + kv},
                c.qkvWidth(), new Buf[] {p.block(l, "qW"), p.block(l, "kW"), p.block(l, "vW")},
                new Buf[] {g.block(l, "qW"), g.block(l, "kW"), g.block(l, "vW")}, new int[] {e, kv, kv});
        LlamaKernels.rmsNormBackward(a.dResidual, g.block(l, "attnNorm"), a.dNorm, a.residual[l],
                p.block(l, "attnNorm"), a.ln1Rstd[l], n, e);
    }

    /**
     * For projections i of one input [n, C] whose outputs' gradients are columns {@code at[i]} ..
     * of dOuts[i] (leading dimension ld): dW_i += in^T dOut_i, and dIn = the sum of dOut_i W_i^T.
     */
    private static void inputGradient(Buf dIn, Buf in, int n, int e, Buf[] dOuts, int[] at, int ld, Buf[] w,
                                      Buf[] dW, int[] widths) {
        for (int i = 0; i < w.length; i++) {
            Mat dOut = Mat.of(dOuts[i], at[i], ld);
            Blas.gemm(true, false, e, widths[i], n, 1, Mat.of(in, 0, e), dOut, 1, Mat.of(dW[i], 0, widths[i]));
            Blas.gemm(false, true, n, e, widths[i], 1, dOut, Mat.of(w[i], 0, widths[i]), i == 0 ? 0 : 1,
                    Mat.of(dIn, 0, e));
        }
    }
}
