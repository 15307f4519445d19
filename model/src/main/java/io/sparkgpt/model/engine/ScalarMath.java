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

    static void gelu(float[] x, float[] out, int n) {
        for (int j = 0; j < n; j++) {
            out[j] = gelu(x[j]);
        }
    }

    static void geluGrad(float[] x, float[] d, int n) {
        for (int j = 0; j < n; j++) {
            d[j] *= geluGrad(x[j]);
        }
    }

    static float gelu(double v) {
        return (float) (0.5 * v * (1 + Kernels.tanh(GELU_C * (v + 0.044715 * v * v * v))));
    }

    static float geluGrad(double v) {
        double t = Kernels.tanh(GELU_C * (v + 0.044715 * v * v * v));
        double dt = (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * v * v);
        return (float) (0.5 * (1 + t) + 0.5 * v * dt);
    }
}
