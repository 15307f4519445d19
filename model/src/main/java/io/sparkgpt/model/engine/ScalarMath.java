package io.sparkgpt.model.engine;

/** The float kernels in plain Java: the fallback without the Vector API, and its tails. */
final class ScalarMath {

    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    private ScalarMath() {
    }

    static float max(float[] x, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, x[j]);
        }
        return m;
    }

    static double expShifted(float[] x, int n, float shift) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            x[j] = (float) Math.exp(x[j] - shift);
            sum += x[j];
        }
        return sum;
    }

    static void scale(float[] x, int n, float s) {
        for (int j = 0; j < n; j++) {
            x[j] *= s;
        }
    }

    static double dot(float[] x, float[] y, int n) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += x[j] * y[j];
        }
        return sum;
    }

    static void subtractTimes(float[] d, float[] p, float s, int n) {
        for (int j = 0; j < n; j++) {
            d[j] = p[j] * (d[j] - s);
        }
    }

    static void gelu(float[] x, float[] out, int n) {
        for (int j = 0; j < n; j++) {
            out[j] = (float) gelu(x[j]);
        }
    }

    static void geluGrad(float[] x, float[] d, int n) {
        for (int j = 0; j < n; j++) {
            d[j] *= (float) geluGrad(x[j]);
        }
    }

    /** GELU, tanh form: 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))). */
    static double gelu(double v) {
        return 0.5 * v * (1 + Kernels.tanh(GELU_C * (v + 0.044715 * v * v * v)));
    }

    /** d GELU(v) / dv. */
    static double geluGrad(double v) {
        double t = Kernels.tanh(GELU_C * (v + 0.044715 * v * v * v));
        double dt = (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * v * v);
        return 0.5 * (1 + t) + 0.5 * v * dt;
    }
}
