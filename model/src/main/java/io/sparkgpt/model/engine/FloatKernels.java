package io.sparkgpt.model.engine;

/**
 * {@link Kernels} for float buffers: the same math on rows bulk-copied to heap arrays, in loops
 * the JIT compiles tight (native-buffer element access costs several times more). Sums in double.
 */
final class FloatKernels {

    private FloatKernels() {
    }

    static void layerNorm(Buf.F32 out, Buf.F32 x, int rows, int c, Buf.F32 g, Buf.F32 b, Buf mean, Buf rstd) {
        float[] row = new float[c];
        float[] gamma = new float[c];
        float[] beta = new float[c];
        g.read(0, gamma, c);
        b.read(0, beta, c);
        for (int r = 0; r < rows; r++) {
            x.read(r * c, row, c);
            double sum = 0;
            for (int i = 0; i < c; i++) {
                sum += row[i];
            }
            float m = (float) (sum / c);
            double var = 0;
            for (int i = 0; i < c; i++) {
                float d = row[i] - m;
                var += d * d;
            }
            float s = (float) (1.0 / Math.sqrt(var / c + Kernels.LN_EPS));
            for (int i = 0; i < c; i++) {
                row[i] = (row[i] - m) * s * gamma[i] + beta[i];
            }
            out.write(r * c, row, c);
            mean.set(r, m);
            rstd.set(r, s);
        }
    }

    static void layerNormBackward(Buf.F32 dx, Buf.F32 dg, Buf.F32 db, Buf.F32 dout, Buf.F32 x, Buf.F32 g,
                                  Buf mean, Buf rstd, int rows, int c) {
        float[] xr = new float[c];
        float[] dr = new float[c];
        float[] dxr = new float[c];
        float[] gamma = new float[c];
        double[] dgAcc = new double[c];
        double[] dbAcc = new double[c];
        g.read(0, gamma, c);
        for (int r = 0; r < rows; r++) {
            x.read(r * c, xr, c);
            dout.read(r * c, dr, c);
            dx.read(r * c, dxr, c);
            float m = (float) mean.get(r);
            float s = (float) rstd.get(r);
            double dnormMean = 0;
            double dnormNormMean = 0;
            for (int i = 0; i < c; i++) {
                float norm = (xr[i] - m) * s;
                float dnorm = gamma[i] * dr[i];
                dnormMean += dnorm;
                dnormNormMean += dnorm * norm;
            }
            float a = (float) (dnormMean / c);
            float bm = (float) (dnormNormMean / c);
            for (int i = 0; i < c; i++) {
                float norm = (xr[i] - m) * s;
                dbAcc[i] += dr[i];
                dgAcc[i] += norm * dr[i];
                dxr[i] += (gamma[i] * dr[i] - a - norm * bm) * s;
            }
            dx.write(r * c, dxr, c);
        }
        addInto(dg, dgAcc);
        addInto(db, dbAcc);
    }

    static void softmaxPrefix(Buf.F32 s, int row, int valid, int width, float[] x) {
        s.read(row, x, valid);
        float max = FloatMath.max(x, valid);
        double sum = FloatMath.expShifted(x, valid, max);
        FloatMath.scale(x, valid, (float) (1.0 / sum));
        s.write(row, x, valid);
        s.zero(row + valid, width - valid);
    }

    static void softmaxPrefixBackward(Buf.F32 d, int dRow, Buf.F32 p, int pRow, int valid, int width,
                                      float[] pr, float[] dr) {
        p.read(pRow, pr, valid);
        d.read(dRow, dr, valid);
        float dot = (float) FloatMath.dot(pr, dr, valid);
        FloatMath.subtractTimes(dr, pr, dot, valid);
        d.write(dRow, dr, valid);
        d.zero(dRow + valid, width - valid);
    }

    static void addBias(Buf.F32 y, int rows, int c, Buf.F32 b) {
        float[] row = new float[c];
        float[] bias = new float[c];
        b.read(0, bias, c);
        for (int r = 0; r < rows; r++) {
            y.read(r * c, row, c);
            for (int i = 0; i < c; i++) {
                row[i] += bias[i];
            }
            y.write(r * c, row, c);
        }
    }

    static void biasBackward(Buf.F32 db, Buf.F32 dy, int rows, int c) {
        float[] row = new float[c];
        double[] acc = new double[c];
        for (int r = 0; r < rows; r++) {
            dy.read(r * c, row, c);
            for (int i = 0; i < c; i++) {
                acc[i] += row[i];
            }
        }
        addInto(db, acc);
    }

    /** acc += x over n elements, a block at a time. */
    static void accumulate(Buf.F32 acc, Buf.F32 x, int n) {
        int block = 4096;
        float[] a = new float[block];
        float[] b = new float[block];
        for (int from = 0; from < n; from += block) {
            int len = Math.min(block, n - from);
            acc.read(from, a, len);
            x.read(from, b, len);
            for (int i = 0; i < len; i++) {
                a[i] += b[i];
            }
            acc.write(from, a, len);
        }
    }

    private static void addInto(Buf.F32 target, double[] values) {
        float[] t = new float[values.length];
        target.read(0, t, t.length);
        for (int i = 0; i < t.length; i++) {
            t[i] += (float) values[i];
        }
        target.write(0, t, t.length);
    }
}
