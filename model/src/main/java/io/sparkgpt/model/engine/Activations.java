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
    /** The MLP's pre-activation [rows, 4C]. */
    final Buf[] fcPre;
    final Buf lnf;
    final Buf lnfMean;
    final Buf lnfRstd;

    /** [rows, 4C] GELU output (forward, and recomputed in backward); [rows, 4C] its gradient. */
    final Buf gelu;
    final Buf dFc;
    /** Backward scratch [rows, C] (dResidual is the gradient of the residual stream) and [rows, 3C]. */
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
        this.tokens = new int[rows];
        this.targets = new int[rows];
        this.residual = many(alloc, l + 1, rc);
        this.residualMid = many(alloc, l, rc);
        this.ln1 = many(alloc, l, rc);
        this.ln1Mean = many(alloc, l, rows);
        this.ln1Rstd = many(alloc, l, rows);
        this.qkv = many(alloc, l, 3 * rc);
        this.probs = many(alloc, l, Attention.probsLength(batch, time, c.nHeads()));
        this.attnOut = many(alloc, l, rc);
        this.ln2 = many(alloc, l, rc);
        this.ln2Mean = many(alloc, l, rows);
        this.ln2Rstd = many(alloc, l, rows);
        this.fcPre = many(alloc, l, 4 * rc);
        this.lnf = alloc.buf(rc);
        this.lnfMean = alloc.buf(rows);
        this.lnfRstd = alloc.buf(rows);
        this.gelu = alloc.buf(4 * rc);
        this.dFc = alloc.buf(4 * rc);
        this.dResidual = alloc.buf(rc);
        this.dBranch = alloc.buf(rc);
        this.dNorm = alloc.buf(rc);
        this.dAttnOut = alloc.buf(rc);
        this.dQkv = alloc.buf(3 * rc);
        this.attention = new Attention(alloc, batch, time, c.embDim(), c.nHeads());
        this.head = new CrossEntropyHead(alloc, rows, c.vocabSize(), c.embDim());
    }

    private static Buf[] many(Buf.Factory alloc, int n, long length) {
        Buf[] out = new Buf[n];
        for (int i = 0; i < n; i++) {
            out[i] = alloc.buf(length);
        }
        return out;
    }
}
