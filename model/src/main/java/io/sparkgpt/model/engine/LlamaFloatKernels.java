package io.sparkgpt.model.engine;

/**
 * {@link LlamaKernels} for float buffers: the same math on rows (or runs of elements)
 * bulk-copied to heap arrays, in loops the JIT compiles tight, as {@link FloatKernels} does for
 * GPT-2's. The arithmetic is the generic path's, in double with a float rounding at each store,
 * so the two give the same bits (LlamaKernelsTest); only the element access changes.
 */
final class LlamaFloatKernels {
    /** Elements of an element-wise kernel's run: heap arrays of a few pages, reused. */
    private static final int RUN = 4096;

    private LlamaFloatKernels() {
    }

    static void rmsNorm(Buf.F32 out, Buf.F32 x, int rows, int c, Buf.F32 w, double eps, Buf rstd) {
        float[] row = new float[c];
        float[] weight = new float[c];
        w.read(0, weight, c);
        for (int r = 0; r < rows; r++) {
            x.read(r * c, row, c);
            double squares = 0;
            for (int i = 0; i < c; i++) {
                double v = row[i];
                squares += v * v;
            }
            double s = 1.0 / Math.sqrt(squares / c + eps);
            for (int i = 0; i < c; i++) {
                row[i] = (float) (row[i] * s * weight[i]);
            }
            out.write(r * c, row, c);
            rstd.set(r, s);
        }
    }

    static void rmsNormBackward(Buf.F32 dx, Buf.F32 dw, Buf.F32 dout, Buf.F32 x, Buf.F32 w, Buf rstd, int rows,
                                int c) {
        float[] xr = new float[c];
        float[] dr = new float[c];
        float[] dxr = new float[c];
        float[] weight = new float[c];
        float[] dwr = new float[c];
        w.read(0, weight, c);
        dw.read(0, dwr, c);
        for (int r = 0; r < rows; r++) {
            x.read(r * c, xr, c);
            dout.read(r * c, dr, c);
            dx.read(r * c, dxr, c);
            double s = rstd.get(r);
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += weight[i] * (double) dr[i] * xr[i] * s;
            }
            dot /= c;
            for (int i = 0; i < c; i++) {
                double norm = xr[i] * s;
                double d = dr[i];
                dwr[i] = (float) (dwr[i] + d * norm);                     // a float add a row, as Buf.add
                dxr[i] = (float) (dxr[i] + (weight[i] * d - norm * dot) * s);
            }
            dx.write(r * c, dxr, c);
        }
        dw.write(0, dwr, c);
    }

    static void swiglu(Buf.F32 out, Buf.F32 gate, Buf.F32 up, int n) {
        float[] g = new float[RUN];
        float[] u = new float[RUN];
        for (int from = 0; from < n; from += RUN) {
            int m = Math.min(RUN, n - from);
            gate.read(from, g, m);
            up.read(from, u, m);
            for (int i = 0; i < m; i++) {
                u[i] = (float) (g[i] / (1 + Math.exp(-g[i])) * u[i]);
            }
            out.write(from, u, m);
        }
    }

    static void swigluBackward(Buf.F32 dGate, Buf.F32 dUp, Buf.F32 dout, Buf.F32 gate, Buf.F32 up, int n) {
        float[] g = new float[RUN];
        float[] u = new float[RUN];
        float[] d = new float[RUN];
        for (int from = 0; from < n; from += RUN) {
            int m = Math.min(RUN, n - from);
            gate.read(from, g, m);
            up.read(from, u, m);
            dout.read(from, d, m);
            for (int i = 0; i < m; i++) {
                double sigma = 1 / (1 + Math.exp(-g[i]));
                double dg = (double) d[i] * u[i] * sigma * (1 + g[i] * (1 - sigma));
                u[i] = (float) ((double) d[i] * g[i] * sigma);                 // d up, in place of up
                d[i] = (float) dg;                                            // d gate, in place of dout
            }
            dUp.write(from, u, m);
            dGate.write(from, d, m);
        }
    }
}
