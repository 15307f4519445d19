package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptConfig;

/**
 * Every buffer of one (batch, T) shape, allocated once and reused every step: what backward needs
 * per layer (llm.c's list, less the GELU output, recomputed, and the dropout masks, regenerated),
 * and the scratch of the passes. Sizes in elements; rows = batch * T.
 */
final class Activations {

    final int batch;
    final int time;
    final int rows;
    final int[] tokens;
    final int[] targets;

    /** residual[l] = the input of block l [rows, C]; residual[L] = the last block's output. */
    final Buf[] residual;
    /** The residual stream inside block l, after attention [rows, C]. */
    final Buf[] residualMid;
    final Buf[] ln1;
    final Buf[] ln1Mean;
    final Buf[] ln1Rstd;
    final Buf[] qkv;
    final Buf[] probs;
    final Buf[] attnOut;
    final Buf[] ln2;
    final Buf[] ln2Mean;
    final Buf[] ln2Rstd;
    /** The MLP's pre-activation: [rows, 4C] (GPT-2), gate | up [rows, 2I] (LLaMA). */
    final Buf[] fcPre;
    final Buf lnf;
    final Buf lnfMean;
    final Buf lnfRstd;

    /** The MLP's activation, GELU or SwiGLU [rows, hidden] (forward, and recomputed in backward). */
    final Buf activation;
    /** The gradient of fcPre ([rows, 4C] or [rows, 2I]) and, for LLaMA, of the activation [rows, I]. */
    final Buf dFc;
    final Buf dActivation;
    /** Backward scratch [rows, C] (dResidual is the gradient of the residual stream) and [rows, C + 2KV]. */
    final Buf dResidual;
    final Buf dBranch;
    final Buf dNorm;
    final Buf dAttnOut;
    final Buf dQkv;

    final Attention attention;
    final CrossEntropyHead head;

    Activations(GptConfig c, Buf.Factory alloc, int batch, int time) {
        this.batch = batch;
        this.time = time;
        this.rows = batch * time;
        int l = c.nLayers();
        long rc = (long) rows * c.embDim();
        boolean gpt2 = c.architecture() == GptConfig.Architecture.GPT2;
        long qkvLength = (long) rows * c.qkvWidth();
        long pre = (long) rows * (gpt2 ? c.hiddenDim() : 2 * c.hiddenDim());
        long hidden = (long) rows * c.hiddenDim();
        this.tokens = new int[rows];
        this.targets = new int[rows];
        this.residual = many(alloc, l + 1, rc);
        this.residualMid = many(alloc, l, rc);
        this.ln1 = many(alloc, l, rc);
        this.ln1Mean = gpt2 ? many(alloc, l, rows) : null;   // RMSNorm keeps rstd only
        this.ln1Rstd = many(alloc, l, rows);
        this.qkv = many(alloc, l, qkvLength);
        this.probs = many(alloc, l, Attention.probsLength(batch, time, c.nHeads()));
        this.attnOut = many(alloc, l, rc);
        this.ln2 = many(alloc, l, rc);
        this.ln2Mean = gpt2 ? many(alloc, l, rows) : null;
        this.ln2Rstd = many(alloc, l, rows);
        this.fcPre = many(alloc, l, pre);
        this.lnf = alloc.buf(rc);
        this.lnfMean = gpt2 ? alloc.buf(rows) : null;
        this.lnfRstd = alloc.buf(rows);
        this.activation = alloc.buf(hidden);
        this.dFc = alloc.buf(pre);
        this.dActivation = gpt2 ? null : alloc.buf(hidden);
        this.dResidual = alloc.buf(rc);
        this.dBranch = alloc.buf(rc);
        this.dNorm = alloc.buf(rc);
        this.dAttnOut = alloc.buf(rc);
        this.dQkv = alloc.buf(qkvLength);
        this.attention = new Attention(alloc, batch, time, c.embDim(), c.nHeads(), c.kvHeads());
        this.head = new CrossEntropyHead(alloc, rows, c.headRows(), c.embDim());
    }

    private static Buf[] many(Buf.Factory alloc, int n, long length) {
        Buf[] out = new Buf[n];
        for (int i = 0; i < n; i++) {
            out[i] = alloc.buf(length);
        }
        return out;
    }
}
