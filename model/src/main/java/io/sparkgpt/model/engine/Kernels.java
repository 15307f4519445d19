package io.sparkgpt.model.engine;

/**
 * The element-wise parts of the GPT, forward and backward, as llm.c writes them: LayerNorm
 * (epsilon inside the square root, biased variance, as PyTorch), GELU's tanh form (the book's),
 * bias rows, residual sums. Matrices are row-major [rows, width] at an element offset.
 * Backward kernels add (+=) into parameter gradients, which the engine zeroes once a step.
 */
public final class Kernels {

    /** LayerNorm epsilon, the book's and PyTorch's. */
    public static final double LN_EPS = 1e-5;

    private Kernels() {
    }

    /** out = (x - mean) * rstd * g + b per row; keeps each row's mean and rstd for backward. */
    public static void layerNorm(Buf out, Buf x, int rows, int c, Buf g, int gOff, Buf b, int bOff,
                                 Buf mean, Buf rstd) {
        if (out instanceof Buf.F32 o && x instanceof Buf.F32 xf && g instanceof Buf.F32 gf && b instanceof Buf.F32 bf
                && gOff == 0 && bOff == 0) {
            FloatKernels.layerNorm(o, xf, rows, c, gf, bf, mean, rstd);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * c;
            double sum = 0;
            for (int i = 0; i < c; i++) {
                sum += x.get(row + i);
            }
            double m = sum / c;
            double var = 0;
            for (int i = 0; i < c; i++) {
                double d = x.get(row + i) - m;
                var += d * d;
            }
            double s = 1.0 / Math.sqrt(var / c + LN_EPS);
            for (int i = 0; i < c; i++) {
                out.set(row + i, (x.get(row + i) - m) * s * g.get(gOff + i) + b.get(bOff + i));
            }
            mean.set(r, m);
            rstd.set(r, s);
        }
    }

    /** dx += LayerNorm's input gradient; dg, db += its parameter gradients (llm.c's layernorm_backward). */
    public static void layerNormBackward(Buf dx, Buf dg, int dgOff, Buf db, int dbOff, Buf dout, Buf x,
                                         Buf g, int gOff, Buf mean, Buf rstd, int rows, int c) {
        if (dx instanceof Buf.F32 a && dg instanceof Buf.F32 b && db instanceof Buf.F32 d && dout instanceof Buf.F32 e
                && x instanceof Buf.F32 f && g instanceof Buf.F32 h && dgOff == 0 && dbOff == 0 && gOff == 0) {
            FloatKernels.layerNormBackward(a, b, d, e, f, h, mean, rstd, rows, c);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * c;
            double m = mean.get(r);
            double s = rstd.get(r);
            double dnormMean = 0;
            double dnormNormMean = 0;
            for (int i = 0; i < c; i++) {
                double norm = (x.get(row + i) - m) * s;
                double dnorm = g.get(gOff + i) * dout.get(row + i);
                dnormMean += dnorm;
                dnormNormMean += dnorm * norm;
            }
            dnormMean /= c;
            dnormNormMean /= c;
            for (int i = 0; i < c; i++) {
                double norm = (x.get(row + i) - m) * s;
                double d = dout.get(row + i);
                double dnorm = g.get(gOff + i) * d;
                db.add(dbOff + i, d);
                dg.add(dgOff + i, norm * d);
                dx.add(row + i, (dnorm - dnormMean - norm * dnormNormMean) * s);
            }
        }
    }

    /** Elements a float kernel copies to the heap at a time. */
    private static final int BLOCK = 4096;

    /** out[i] = GELU(x[i]) for n elements from offset 0 (out may be x). */
    public static void gelu(Buf out, Buf x, int n) {
        if (out instanceof Buf.F32 o && x instanceof Buf.F32 in) {
            float[] a = new float[BLOCK];
            for (int from = 0; from < n; from += BLOCK) {
                int len = Math.min(BLOCK, n - from);
                in.read(from, a, len);
                FloatMath.gelu(a, a, len);
                o.write(from, a, len);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            out.set(i, ScalarMath.gelu(x.get(i)));
        }
    }

    /** dx[i] = GELU'(x[i]) * dout[i] (dx may be dout). */
    public static void geluBackward(Buf dx, Buf x, Buf dout, int n) {
        if (dx instanceof Buf.F32 o && x instanceof Buf.F32 in && dout instanceof Buf.F32 d) {
            float[] a = new float[BLOCK];
            float[] g = new float[BLOCK];
            for (int from = 0; from < n; from += BLOCK) {
                int len = Math.min(BLOCK, n - from);
                in.read(from, a, len);
                d.read(from, g, len);
                FloatMath.geluGrad(a, g, len);
                o.write(from, g, len);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            dx.set(i, dout.get(i) * ScalarMath.geluGrad(x.get(i)));
        }
    }

    /**
     * tanh through exp, which the JIT compiles to an intrinsic (Math.tanh is StrictMath's, several
     * times slower): 1 - 2 / (e^2x + 1), exact to a few ulps, +-1 where e^2x overflows or vanishes.
     */
    static double tanh(double x) {
        return 1 - 2 / (Math.exp(2 * x) + 1);
    }

    /**
     * Softmax of s[row, row + valid) in place, zeros in [row + valid, row + width): a causal row.
     * Float buffers go through scratch (at least valid floats), so the exps run vectorized.
     */
    static void softmaxPrefix(Buf s, int row, int valid, int width, float[] scratch) {
        if (s instanceof Buf.F32 f) {
            FloatKernels.softmaxPrefix(f, row, valid, width, scratch);
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < valid; j++) {
            max = Math.max(max, s.get(row + j));
        }
        double sum = 0;
        for (int j = 0; j < valid; j++) {
            double e = Math.exp(s.get(row + j) - max);
            s.set(row + j, e);
            sum += e;
        }
        double inv = 1.0 / sum;
        for (int j = 0; j < valid; j++) {
            s.set(row + j, s.get(row + j) * inv);
        }
        s.zero(row + valid, width - valid);
    }

    /**
     * The causal row's softmax backward in place: d := p * (d - sum(p * d)) over [0, valid) of
     * d at dRow and p at pRow, zeros in [valid, width). Scratch as for softmaxPrefix.
     */
    static void softmaxPrefixBackward(Buf d, int dRow, Buf p, int pRow, int valid, int width,
                                      float[] pScratch, float[] dScratch) {
        if (d instanceof Buf.F32 df && p instanceof Buf.F32 pf) {
            FloatKernels.softmaxPrefixBackward(df, dRow, pf, pRow, valid, width, pScratch, dScratch);
            return;
        }
        double dot = 0;
        for (int j = 0; j < valid; j++) {
            dot += p.get(pRow + j) * d.get(dRow + j);
        }
        for (int j = 0; j < valid; j++) {
            d.set(dRow + j, p.get(pRow + j) * (d.get(dRow + j) - dot));
        }
        d.zero(dRow + valid, width - valid);
    }

    /** y[r, :] += b for every row (b at bOff, width c). */
    public static void addBias(Buf y, int rows, int c, Buf b, int bOff) {
        if (y instanceof Buf.F32 yf && b instanceof Buf.F32 bf && bOff == 0) {
            FloatKernels.addBias(yf, rows, c, bf);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * c;
            for (int i = 0; i < c; i++) {
                y.add(row + i, b.get(bOff + i));
            }
        }
    }

    /** db += column sums of dy [rows, c]: a bias's gradient. */
    public static void biasBackward(Buf db, int dbOff, Buf dy, int rows, int c) {
        if (db instanceof Buf.F32 d && dy instanceof Buf.F32 y && dbOff == 0) {
            FloatKernels.biasBackward(d, y, rows, c);
            return;
        }
        for (int i = 0; i < c; i++) {
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                sum += dy.get(r * c + i);
            }
            db.add(dbOff + i, sum);
        }
    }

    /** out = a + b over n elements (out may be a or b). */
    public static void add(Buf out, Buf a, Buf b, int n) {
        for (int i = 0; i < n; i++) {
            out.set(i, a.get(i) + b.get(i));
        }
    }

    /** acc += x over n elements. */
    public static void accumulate(Buf acc, Buf x, int n) {
        if (acc instanceof Buf.F32 a && x instanceof Buf.F32 b) {
            FloatKernels.accumulate(a, b, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            acc.add(i, x.get(i));
        }
    }
}
