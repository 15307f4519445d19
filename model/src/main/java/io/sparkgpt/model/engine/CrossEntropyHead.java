package io.sparkgpt.model.engine;

import io.sparkgpt.model.engine.Blas.Mat;

/**
 * The output head and the next-token cross-entropy, fused and in chunks of rows, so the full
 * [B*T, vocab] logits never exist (as torchtune's LinearCrossEntropyLoss and Liger's kernel):
 * per chunk, logits = x W^T, each row's log-sum-exp and loss, the logits overwritten in place
 * by their gradient (softmax - one-hot) * scale, then dx = dlogits W and dW += dlogits^T x.
 * A row whose target is {@link #IGNORE} (PyTorch's ignore_index) adds no loss and no gradient:
 * a classifier's targets are ignored everywhere but at each sequence's last real token.
 */
public final class CrossEntropyHead {
    /** The target of a position that is not scored. */
    public static final int IGNORE = -1;

    private final int vocab;
    private final int emb;
    private final int chunkRows;
    /** [chunkRows, vocab]: one chunk's logits, then their gradient. */
    private final Buf logits;
    /** One float row, for the float path: bulk copies in and out, loops the JIT vectorises. */
    private final float[] row;

    public CrossEntropyHead(Buf.Factory alloc, int rows, int vocab, int emb) {
        this.vocab = vocab;
        this.emb = emb;
        this.chunkRows = Math.min(rows, chunkRows(vocab));
        this.logits = alloc.buf((long) chunkRows * vocab);
        this.row = logits instanceof Buf.F32 ? new float[vocab] : null;
    }

    /**
     * Rows per chunk: logits of at most 32M elements (128 MB in float), so the head's memory is
     * bounded whatever the batch; and at least 64 rows. Fewer, larger chunks pay: dW += dlogits^T x
     * streams the whole [V, C] gradient once a chunk (measured, mini batch 8: 166-row chunks 814
     * tokens/s, 667-row 866, one 1024-row chunk 899).
     */
    static int chunkRows(int vocab) {
        return Math.max(64, (32 << 20) / vocab);
    }

    /**
     * Sum over rows (but ignored ones) of -log softmax(x W^T)[target]; with dx != null also dx [rows, C] (written) and
     * dW [V, C] (added), both of scale * that sum.
     */
    public double lossAndBackward(Buf x, int rows, Mat w, int[] targets, double scale, Buf dx, Mat dw) {
        double lossSum = 0;
        for (int r0 = 0; r0 < rows; r0 += chunkRows) {
            int n = Math.min(chunkRows, rows - r0);
            Blas.gemm(false, true, n, vocab, emb, 1, Mat.of(x, r0 * emb, emb), w, 0, Mat.of(logits, 0, vocab));
            for (int r = 0; r < n; r++) {
                int target = targets[r0 + r];
                if (target == IGNORE) {
                    logits.zero(r * vocab, vocab);
                } else {
                    lossSum += rowLossAndGradient(r * vocab, target, dx == null ? 0 : scale);
                }
            }
            if (dx != null) {
                Blas.gemm(false, false, n, emb, vocab, 1, Mat.of(logits, 0, vocab), w, 0, Mat.of(dx, r0 * emb, emb));
                Blas.gemm(true, false, vocab, emb, n, 1, Mat.of(logits, 0, vocab), Mat.of(x, r0 * emb, emb), 1, dw);
            }
        }
        return lossSum;
    }

    /** logits [rows, V] = x W^T, all of them (inference). */
    public static void logits(Buf out, Buf x, int rows, int vocab, int emb, Mat w) {
        Blas.gemm(false, true, rows, vocab, emb, 1, Mat.of(x, 0, emb), w, 0, Mat.of(out, 0, vocab));
    }

    /** One row's loss (log-sum-exp minus the target's logit); with scale != 0 its gradient in place. */
    private double rowLossAndGradient(int offset, int target, double scale) {
        return logits instanceof Buf.F32 f ? floatRow(f, offset, target, scale) : doubleRow(offset, target, scale);
    }

    /** As doubleRow, on a float copy of the row: one exp a logit, the sum in double. */
    private double floatRow(Buf.F32 buf, int offset, int target, double scale) {
        float[] x = row;
        buf.read(offset, x, vocab);
        float max = FloatMath.max(x, vocab);
        float targetLogit = x[target];
        double sum = FloatMath.expShifted(x, vocab, max);
        double loss = Math.log(sum) + max - targetLogit;
        if (scale != 0) {
            FloatMath.scale(x, vocab, (float) (scale / sum));
            x[target] -= (float) scale;
            buf.write(offset, x, vocab);
        }
        return loss;
    }

    private double doubleRow(int row, int target, double scale) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, logits.get(row + j));
        }
        double sum = 0;
        for (int j = 0; j < vocab; j++) {
            sum += Math.exp(logits.get(row + j) - max);
        }
        double loss = Math.log(sum) + max - logits.get(row + target);
        if (scale != 0) {
            double norm = scale / sum;
            for (int j = 0; j < vocab; j++) {
                logits.set(row + j, Math.exp(logits.get(row + j) - max) * norm);
            }
            logits.add(row + target, -scale);
        }
        return loss;
    }
}
