package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.engine.Blas.Mat;

/**
 * One pre-LayerNorm transformer block (the book's listing 4.6), forward and backward:
 * mid = x + drop(proj(attn(LN1(x)))), out = mid + drop(fc2(GELU(fc(LN2(mid))))).
 * Backward runs the same lines in reverse on the residual stream's gradient, which each
 * LayerNorm's backward adds into (llm.c's dresidual).
 */
final class Blocks {

    private Blocks() {
    }

    static void forward(GptEngine engine, int l, Tensors p) {
        GptConfig c = engine.config();
        Activations a = engine.acts();
        int e = c.embDim();
        int n = a.rows;
        Dropout drop = engine.dropout();
        Kernels.layerNorm(a.ln1[l], a.residual[l], n, e, p.block(l, "ln1G"), 0, p.block(l, "ln1B"), 0,
                a.ln1Mean[l], a.ln1Rstd[l]);
        linear(a.qkv[l], a.ln1[l], n, e, 3 * e, p.block(l, "attnW"), c.qkvBias() ? p.block(l, "attnB") : null);
        a.attention.forward(a.attnOut[l], a.qkv[l], a.probs[l], drop, engine.siteKey(1 + 3 * l),
                engine.firstProbability());
        residualBranch(a.residualMid[l], a.residual[l], a.attnOut[l], n, e, e, p.block(l, "projW"),
                p.block(l, "projB"), drop, engine.siteKey(2 + 3 * l), engine.firstElement(e));

        Kernels.layerNorm(a.ln2[l], a.residualMid[l], n, e, p.block(l, "ln2G"), 0, p.block(l, "ln2B"), 0,
                a.ln2Mean[l], a.ln2Rstd[l]);
        linear(a.fcPre[l], a.ln2[l], n, e, 4 * e, p.block(l, "fcW"), p.block(l, "fcB"));
        Kernels.gelu(a.activation, a.fcPre[l], n * 4 * e);
        residualBranch(a.residual[l + 1], a.residualMid[l], a.activation, n, 4 * e, e, p.block(l, "fc2W"),
                p.block(l, "fc2B"), drop, engine.siteKey(3 + 3 * l), engine.firstElement(e));
    }

    /** On entry a.dResidual = dL/d(out of block l); on exit dL/d(x), block l's input. */
    static void backward(GptEngine engine, int l, Tensors p, Tensors g) {
        GptConfig c = engine.config();
        Activations a = engine.acts();
        int e = c.embDim();
        int n = a.rows;
        Dropout drop = engine.dropout();

        maskedCopy(a.dBranch, a.dResidual, n * e, drop, engine.siteKey(3 + 3 * l), engine.firstElement(e));
        Kernels.gelu(a.activation, a.fcPre[l], n * 4 * e);                         // recomputed, not kept
        linearBackward(a.dFc, g.block(l, "fc2W"), g.block(l, "fc2B"), a.dBranch, a.activation, p.block(l, "fc2W"),
                n, 4 * e, e);
        Kernels.geluBackward(a.dFc, a.fcPre[l], a.dFc, n * 4 * e);
        linearBackward(a.dNorm, g.block(l, "fcW"), g.block(l, "fcB"), a.dFc, a.ln2[l], p.block(l, "fcW"),
                n, e, 4 * e);
        Kernels.layerNormBackward(a.dResidual, g.block(l, "ln2G"), 0, g.block(l, "ln2B"), 0, a.dNorm,
                a.residualMid[l], p.block(l, "ln2G"), 0, a.ln2Mean[l], a.ln2Rstd[l], n, e);

        maskedCopy(a.dBranch, a.dResidual, n * e, drop, engine.siteKey(2 + 3 * l), engine.firstElement(e));
        linearBackward(a.dAttnOut, g.block(l, "projW"), g.block(l, "projB"), a.dBranch, a.attnOut[l],
                p.block(l, "projW"), n, e, e);
        a.attention.backward(a.dQkv, a.dAttnOut, a.qkv[l], a.probs[l], drop, engine.siteKey(1 + 3 * l),
                engine.firstProbability());
        linearBackward(a.dNorm, g.block(l, "attnW"), c.qkvBias() ? g.block(l, "attnB") : null, a.dQkv, a.ln1[l],
                p.block(l, "attnW"), n, e, 3 * e);
        Kernels.layerNormBackward(a.dResidual, g.block(l, "ln1G"), 0, g.block(l, "ln1B"), 0, a.dNorm,
                a.residual[l], p.block(l, "ln1G"), 0, a.ln1Mean[l], a.ln1Rstd[l], n, e);
    }

    /** out [n, width] = in [n, inDim] W [inDim, width] (+ b). */
    static void linear(Buf out, Buf in, int n, int inDim, int width, Buf w, Buf b) {
        Blas.gemm(false, false, n, width, inDim, 1, Mat.of(in, 0, inDim), Mat.of(w, 0, width), 0, Mat.of(out, 0, width));
        if (b != null) {
            Kernels.addBias(out, n, width, b, 0);
        }
    }

    /** out = x + drop(in W + b), the branch's output added to the residual stream. */
    static void residualBranch(Buf out, Buf x, Buf in, int n, int inDim, int e, Buf w, Buf b,
                                       Dropout drop, long siteKey, long first) {
        linear(out, in, n, inDim, e, w, b);
        if (drop.active()) {
            drop.apply(out, 0, n * e, siteKey, first);
        }
        Kernels.accumulate(out, x, n * e);
    }

    /** dIn = dOut W^T (written); dW += in^T dOut; db += column sums of dOut. */
    static void linearBackward(Buf dIn, Buf dW, Buf dB, Buf dOut, Buf in, Buf w, int n, int inDim, int width) {
        Blas.gemm(true, false, inDim, width, n, 1, Mat.of(in, 0, inDim), Mat.of(dOut, 0, width), 1, Mat.of(dW, 0, width));
        if (dB != null) {
            Kernels.biasBackward(dB, 0, dOut, n, width);
        }
        Blas.gemm(false, true, n, inDim, width, 1, Mat.of(dOut, 0, width), Mat.of(w, 0, width), 0, Mat.of(dIn, 0, inDim));
    }

    /** dst = src * the site's dropout mask (a plain copy without dropout). */
    static void maskedCopy(Buf dst, Buf src, int n, Dropout drop, long siteKey, long first) {
        dst.copyFrom(src, 0, 0, n);
        if (drop.active()) {
            drop.apply(dst, 0, n, siteKey, first);
        }
    }
}
