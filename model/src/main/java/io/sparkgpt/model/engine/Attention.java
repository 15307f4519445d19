package io.sparkgpt.model.engine;

import io.sparkgpt.model.engine.Blas.Mat;

/**
 * Causal multi-head self-attention on the fused projection qkv [B*T, C + 2 KV] (q | k | v, query
 * head h in columns h*hs .. (h+1)*hs of q, key/value head j in those of k and v; KV = C but for
 * grouped-query attention, where query head h reads key/value head h / (NH / NKV), as Hugging
 * Face's repeat_kv pairs them): per (batch, head) two rank-2 GEMMs on strided views of qkv,
 * the 1/sqrt(hs) scale passed as alpha, and a softmax over the lower triangle only. ND4J's rank-4
 * matmul would take libnd4j's scalar batched loop; these reach cblas_sgemm.
 *
 * <p>Keeps the attention probabilities P [B, NH, T, T] for backward (the mask above the
 * diagonal is exact zeros); their dropout mask is regenerated, not stored.
 *
 * <p>The (batch, head) pairs run one after another: on worker threads of their own (BLAS
 * single-threaded meanwhile) they measured no faster on 2 hyperthreads, and 20% slower while
 * OpenBLAS's idle threads spin (gpt2-small, context 256).
 */
public final class Attention {

    private final int b;
    private final int t;
    private final int c;
    private final int nh;
    private final int hs;
    /** Query heads a key/value head serves, and the width of k (and of v). */
    private final int group;
    private final int kv;
    private final int ld;
    private final double scale;
    /** One (b, h)'s dropped-out probabilities and the gradient of P [T, T]; one row of each as floats. */
    private final Buf dropped;
    private final Buf dProbs;
    private final float[] rowP;
    private final float[] rowD;
    /** The mask index of this pass's P[0, 0, 0, 0]: the batch's place in its step's global batch. */
    private long firstMask;

    public Attention(Buf.Factory alloc, int batch, int time, int emb, int heads, int kvHeads) {
        this.b = batch;
        this.t = time;
        this.c = emb;
        this.nh = heads;
        this.hs = emb / heads;
        this.group = heads / kvHeads;
        this.kv = kvHeads * hs;
        this.ld = emb + 2 * kv;
        this.scale = 1.0 / Math.sqrt(hs);
        this.dropped = alloc.buf((long) time * time);
        this.dProbs = alloc.buf((long) time * time);
        this.rowP = new float[time];
        this.rowD = new float[time];
    }

    /** Elements of P for one layer. */
    public static long probsLength(int batch, int time, int heads) {
        return (long) batch * heads * time * time;
    }

    /** Offset in qkv of key head (h's group) of batch row bi's first position; v is kv further. */
    private int keys(int bi, int h) {
        return bi * t * ld + c + (h / group) * hs;
    }

    /** out [B*T, C] = softmax(q k^T / sqrt(hs) + causal mask) v per head; probs [B, NH, T, T] kept. */
    public void forward(Buf out, Buf qkv, Buf probs, Dropout dropout, long siteKey, long firstMask) {
        this.firstMask = firstMask;
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                forwardHead(bi, h, out, qkv, probs, dropout, siteKey);
            }
        }
    }

    private void forwardHead(int bi, int h, Buf out, Buf qkv, Buf probs, Dropout dropout, long siteKey) {
        int q = bi * t * ld + h * hs;                                            // [T, hs] at stride ld
        int k = keys(bi, h);
        int p = (bi * nh + h) * t * t;                                           // [T, T]
        Blas.gemm(false, true, t, t, hs, scale, Mat.of(qkv, q, ld), Mat.of(qkv, k, ld), 0, Mat.of(probs, p, t));
        for (int i = 0; i < t; i++) {
            Kernels.softmaxPrefix(probs, p + i * t, i + 1, t, rowP);                // query i sees keys 0..i
        }
        Buf weights = dropOut(probs, p, dropout, siteKey);
        int wOff = weights == probs ? p : 0;
        Blas.gemm(false, false, t, hs, t, 1, Mat.of(weights, wOff, t), Mat.of(qkv, k + kv, ld),
                0, Mat.of(out, bi * t * c + h * hs, c));
    }

    /** dqkv [B*T, C + 2 KV] = the gradient of qkv given dout [B*T, C] (written, not added). */
    public void backward(Buf dqkv, Buf dout, Buf qkv, Buf probs, Dropout dropout, long siteKey, long firstMask) {
        this.firstMask = firstMask;
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                backwardHead(bi, h, dqkv, dout, qkv, probs, dropout, siteKey);
            }
        }
    }

    private void backwardHead(int bi, int h, Buf dqkv, Buf dout, Buf qkv, Buf probs, Dropout dropout,
                              long siteKey) {
        int q = bi * t * ld + h * hs;
        int k = keys(bi, h);
        int p = (bi * nh + h) * t * t;
        int dy = bi * t * c + h * hs;
        double first = h % group == 0 ? 0 : 1;          // a group's later heads add to its dK and dV
        Buf weights = dropOut(probs, p, dropout, siteKey);
        int wOff = weights == probs ? p : 0;
        // dV = W^T dY; dW = dY V^T
        Blas.gemm(true, false, t, hs, t, 1, Mat.of(weights, wOff, t), Mat.of(dout, dy, c), first, Mat.of(dqkv, k + kv, ld));
        Blas.gemm(false, true, t, t, hs, 1, Mat.of(dout, dy, c), Mat.of(qkv, k + kv, ld), 0, Mat.of(dProbs, 0, t));
        if (dropout.active()) {
            dropout.applyCausal(dProbs, 0, t, siteKey, firstMask + p);                           // only the triangle is read
        }
        for (int i = 0; i < t; i++) {                                            // dProbs becomes dScores
            Kernels.softmaxPrefixBackward(dProbs, i * t, probs, p + i * t, i + 1, t, rowP, rowD);
        }
        // dQ = dS K * scale; dK = dS^T Q * scale
        Blas.gemm(false, false, t, hs, t, scale, Mat.of(dProbs, 0, t), Mat.of(qkv, k, ld), 0, Mat.of(dqkv, q, ld));
        Blas.gemm(true, false, t, hs, t, scale, Mat.of(dProbs, 0, t), Mat.of(qkv, q, ld), first, Mat.of(dqkv, k, ld));
    }

    /** P itself without dropout; else its dropped-out copy in scratch (mask from P's element index). */
    private Buf dropOut(Buf probs, int p, Dropout dropout, long siteKey) {
        if (!dropout.active()) {
            return probs;
        }
        dropped.copyFrom(probs, p, 0, t * t);
        dropout.applyCausal(dropped, 0, t, siteKey, firstMask + p);                           // above: zeros of P
        return dropped;
    }
}
