package io.sparkgpt.model.engine;

/**
 * LLaMA's element-wise parts, forward and backward: RMSNorm ({@code x / sqrt(mean(x^2) + eps) * w},
 * Hugging Face's LlamaRMSNorm) and the SwiGLU activation {@code silu(gate) * up}. Sums in double.
 * Backward kernels add (+=) into parameter gradients and into dx, as {@link Kernels}' do. Float
 * buffers take {@link LlamaFloatKernels}' path (the same math on heap copies).
 */
public final class LlamaKernels {

    private LlamaKernels() {
    }

    /** out = x * rstd * w per row [rows, c]; keeps each row's rstd for backward. */
    public static void rmsNorm(Buf out, Buf x, int rows, int c, Buf w, double eps, Buf rstd) {
        if (out instanceof Buf.F32 o && x instanceof Buf.F32 xf && w instanceof Buf.F32 wf) {
            LlamaFloatKernels.rmsNorm(o, xf, rows, c, wf, eps, rstd);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * c;
            double squares = 0;
            for (int i = 0; i < c; i++) {
                double v = x.get(row + i);
                squares += v * v;
            }
            double s = 1.0 / Math.sqrt(squares / c + eps);
            for (int i = 0; i < c; i++) {
                out.set(row + i, x.get(row + i) * s * w.get(i));
            }
            rstd.set(r, s);
        }
    }

    /**
     * dx += RMSNorm's input gradient, dw += its weight's: with n = x rstd and dn = w dout,
     * dx = rstd (dn - n mean(dn n)), dw = sum over rows of dout n.
     */
    public static void rmsNormBackward(Buf dx, Buf dw, Buf dout, Buf x, Buf w, Buf rstd, int rows, int c) {
        if (dx instanceof Buf.F32 a && dw instanceof Buf.F32 b && dout instanceof Buf.F32 d && x instanceof Buf.F32 f
                && w instanceof Buf.F32 h) {
            LlamaFloatKernels.rmsNormBackward(a, b, d, f, h, rstd, rows, c);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = r * c;
            double s = rstd.get(r);
            double dot = 0;
            for (int i = 0; i < c; i++) {
                dot += w.get(i) * dout.get(row + i) * x.get(row + i) * s;
            }
            dot /= c;
            for (int i = 0; i < c; i++) {
                double norm = x.get(row + i) * s;
                double d = dout.get(row + i);
                dw.add(i, d * norm);
                dx.add(row + i, (w.get(i) * d - norm * dot) * s);
            }
        }
    }

    /** out[i] = silu(gate[i]) * up[i] for n elements, silu(g) = g / (1 + e^-g). */
    public static void swiglu(Buf out, Buf gate, Buf up, int n) {
        if (out instanceof Buf.F32 o && gate instanceof Buf.F32 g && up instanceof Buf.F32 u) {
            LlamaFloatKernels.swiglu(o, g, u, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            double g = gate.get(i);
            out.set(i, g / (1 + Math.exp(-g)) * up.get(i));
        }
    }

    /**
     * The gradients of gate and up (written) given dout: d up = dout silu(g),
     * d gate = dout up sigma(g) (1 + g (1 - sigma(g))).
     */
    public static void swigluBackward(Buf dGate, Buf dUp, Buf dout, Buf gate, Buf up, int n) {
        if (dGate instanceof Buf.F32 a && dUp instanceof Buf.F32 b && dout instanceof Buf.F32 d
                && gate instanceof Buf.F32 g && up instanceof Buf.F32 u) {
            LlamaFloatKernels.swigluBackward(a, b, d, g, u, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            double g = gate.get(i);
            double sigma = 1 / (1 + Math.exp(-g));
            double d = dout.get(i);
            double u = up.get(i);
            dUp.set(i, d * g * sigma);
            dGate.set(i, d * u * sigma * (1 + g * (1 - sigma)));
        }
    }
}
