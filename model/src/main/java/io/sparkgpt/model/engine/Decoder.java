package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptParams;
import io.sparkgpt.model.engine.Blas.Mat;

/**
 * Generation with a key/value cache (one sequence): each block keeps the q|k|v rows of every
 * position seen, so a new token costs one row through the blocks and attention over the cached
 * rows, instead of rerunning the whole context. The same math as {@link GptEngine}'s forward
 * pass without dropout, for positions start..start+n-1 at a time (a prompt in one go).
 *
 * <p>Positions are absolute (learned, sinusoidal, or rotary: the cached keys are turned by their
 * positions), so once the sequence outgrows context_length the window slides and the cache must
 * be rebuilt from the cropped window ({@link #reset}). LLaMA's blocks keep q|k|v [C + 2KV] a row.
 */
public final class Decoder {

    private final GptConfig c;
    private final Tensors p;
    private final Buf positions;
    private final int ctx;
    private final int e;
    /** Per block: q|k|v of every cached position [context, C + 2KV]. */
    private final Buf[] qkv;
    private final int ld;
    private final boolean llama;
    private final Rotary rotary;
    /** LLaMA's MLP: gate, up [context, I]; the activation goes to fc. */
    private final Buf gate;
    private final Buf up;
    private final Buf x;
    private final Buf norm;
    private final Buf attnOut;
    private final Buf mid;
    private final Buf fc;
    private final Buf scores;
    /** One row of scores for the float softmax. */
    private final float[] scoreRow;
    private final Buf stats;
    private final Buf statsRstd;
    private final Buf logits;
    private int length;

    public Decoder(GptConfig c, Tensors params, Buf sinusoid, Buf.Factory alloc) {
        this.c = c;
        this.p = params;
        this.positions = switch (c.position()) {
            case LEARNED -> params.get(GptParams.POSITION_EMBEDDING);
            case SINUSOIDAL -> sinusoid;
            case ROTARY -> null;
        };
        this.ctx = c.contextLength();
        this.e = c.embDim();
        this.ld = c.qkvWidth();
        this.llama = c.architecture() == GptConfig.Architecture.LLAMA;
        this.rotary = llama ? new Rotary(ctx, c.headDim(), c.llama().ropeTheta()) : null;
        this.qkv = new Buf[c.nLayers()];
        for (int l = 0; l < qkv.length; l++) {
            qkv[l] = alloc.buf((long) ctx * ld);
        }
        this.x = alloc.buf((long) ctx * e);
        this.norm = alloc.buf((long) ctx * e);
        this.attnOut = alloc.buf((long) ctx * e);
        this.mid = alloc.buf((long) ctx * e);
        this.fc = alloc.buf((long) ctx * c.hiddenDim());
        this.gate = llama ? alloc.buf((long) ctx * c.hiddenDim()) : null;
        this.up = llama ? alloc.buf((long) ctx * c.hiddenDim()) : null;
        this.scores = alloc.buf((long) ctx * ctx);
        this.scoreRow = new float[ctx];
        this.stats = alloc.buf(ctx);
        this.statsRstd = alloc.buf(ctx);
        this.logits = alloc.buf(c.headRows());
    }

    /** Forgets every cached position. */
    public void reset() {
        length = 0;
    }

    public int length() {
        return length;
    }

    /** Appends ids at the next positions; returns the logits [vocab] of the last one. */
    public double[] append(int[] ids) {
        int n = ids.length;
        if (n == 0 || length + n > ctx) {
            throw new IllegalArgumentException("cannot append " + n + " ids to " + length + " cached positions"
                    + " (context_length " + ctx + ")");
        }
        embed(ids);
        for (int l = 0; l < c.nLayers(); l++) {
            block(l, n);
        }
        int last = (n - 1) * e;
        if (llama) {
            LlamaKernels.rmsNorm(norm, rowsFrom(x, last), 1, e, p.get(GptParams.FINAL_NORM_SCALE),
                    c.llama().rmsNormEps(), statsRstd);
        } else {
            Kernels.layerNorm(norm, rowsFrom(x, last), 1, e, p.get(GptParams.FINAL_NORM_SCALE), 0,
                    p.get(GptParams.FINAL_NORM_SHIFT), 0, stats, statsRstd);
        }
        Buf head = p.get(GptParams.headName(c));
        CrossEntropyHead.logits(logits, norm, 1, c.headRows(), e, Mat.of(head, 0, e));
        length += n;
        double[] out = new double[c.headRows()];
        for (int v = 0; v < out.length; v++) {
            out[v] = logits.get(v);
        }
        return out;
    }

    private void embed(int[] ids) {
        Buf wte = p.get(GptParams.TOKEN_EMBEDDING);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + ids[i] + " is outside the vocabulary [0, "
                        + c.vocabSize() + ")");
            }
            x.copyFrom(wte, ids[i] * e, i * e, e);
            for (int j = 0; positions != null && j < e; j++) {
                x.add(i * e + j, positions.get((length + i) * e + j));
            }
        }
    }

    /** Block l on the n new rows of x, in place; their q|k|v join the cache. */
    private void block(int l, int n) {
        if (llama) {
            llamaBlock(l, n);
            return;
        }
        Kernels.layerNorm(norm, x, n, e, p.block(l, "ln1G"), 0, p.block(l, "ln1B"), 0, stats, statsRstd);
        Buf rows = rowsFrom(qkv[l], length * 3 * e);
        Blas.gemm(false, false, n, 3 * e, e, 1, Mat.of(norm, 0, e), Mat.of(p.block(l, "attnW"), 0, 3 * e), 0,
                Mat.of(qkv[l], length * 3 * e, 3 * e));
        if (c.qkvBias()) {
            Kernels.addBias(rows, n, 3 * e, p.block(l, "attnB"), 0);
        }
        attend(l, n);
        Blocks.linear(mid, attnOut, n, e, e, p.block(l, "projW"), p.block(l, "projB"));
        Kernels.accumulate(mid, x, n * e);
        Kernels.layerNorm(norm, mid, n, e, p.block(l, "ln2G"), 0, p.block(l, "ln2B"), 0, stats, statsRstd);
        Blocks.linear(fc, norm, n, e, 4 * e, p.block(l, "fcW"), p.block(l, "fcB"));
        Kernels.gelu(fc, fc, n * 4 * e);
        Blocks.linear(x, fc, n, 4 * e, e, p.block(l, "fc2W"), p.block(l, "fc2B"));
        Kernels.accumulate(x, mid, n * e);
    }

    /** LLaMA's layer on the n new rows of x: RMSNorm, rotary q|k|v into the cache, attention, SwiGLU. */
    private void llamaBlock(int l, int n) {
        double eps = c.llama().rmsNormEps();
        int hidden = c.hiddenDim();
        LlamaKernels.rmsNorm(norm, x, n, e, p.block(l, "attnNorm"), eps, statsRstd);
        LlamaBlocks.projectQkv(c, qkv[l], length * ld, norm, n, p.block(l, "qW"), p.block(l, "kW"), p.block(l, "vW"));
        rotary.apply(rowsFrom(qkv[l], length * ld), n, ctx, length, ld, e, c.nHeads(), c.kvHeads(), false);
        attend(l, n);
        Blocks.linear(mid, attnOut, n, e, e, p.block(l, "oW"), null);
        Kernels.accumulate(mid, x, n * e);
        LlamaKernels.rmsNorm(norm, mid, n, e, p.block(l, "mlpNorm"), eps, statsRstd);
        Blocks.linear(gate, norm, n, e, hidden, p.block(l, "gateW"), null);
        Blocks.linear(up, norm, n, e, hidden, p.block(l, "upW"), null);
        LlamaKernels.swiglu(fc, gate, up, n * hidden);
        Blocks.linear(x, fc, n, hidden, e, p.block(l, "downW"), null);
        Kernels.accumulate(x, mid, n * e);
    }

    /** attnOut [n, C]: new row i (position length + i) attends to cached positions 0..length + i. */
    private void attend(int l, int n) {
        int hs = e / c.nHeads();
        int keys = length + n;
        int group = c.nHeads() / c.kvHeads();
        int kv = c.kvHeads() * hs;
        for (int h = 0; h < c.nHeads(); h++) {
            int k = e + (h / group) * hs;
            Blas.gemm(false, true, n, keys, hs, 1.0 / Math.sqrt(hs), Mat.of(qkv[l], length * ld + h * hs, ld),
                    Mat.of(qkv[l], k, ld), 0, Mat.of(scores, 0, keys));
            for (int i = 0; i < n; i++) {
                Kernels.softmaxPrefix(scores, i * keys, length + i + 1, keys, scoreRow);
            }
            Blas.gemm(false, false, n, hs, keys, 1, Mat.of(scores, 0, keys), Mat.of(qkv[l], k + kv, ld), 0,
                    Mat.of(attnOut, h * hs, e));
        }
    }

    /** A view of buf from element offset on (kernels address rows from 0). */
    private static Buf rowsFrom(Buf buf, int offset) {
        return offset == 0 ? buf : buf.slice(offset);
    }
}
