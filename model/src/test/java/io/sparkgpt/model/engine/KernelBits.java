package io.sparkgpt.model.engine;

import java.util.SplittableRandom;

/** Prints a hash of the bits every Vector API kernel gives on fixed inputs (run in a child JVM by {@link VectorMathTest}). */
public final class KernelBits {
    private KernelBits() {
    }

    static float[] inputs(int n, double scale, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    /** One long a kernel: the bits of its outputs (and sums), hashed in order. */
    static long[] hashes() {
        int n = 1003;
        float[] x = inputs(n, 6, 1);
        float[] y = inputs(n, 1, 2);
        long[] out = new long[6];
        float[] e = x.clone();
        double sum = VectorMath.expShifted(e, n, VectorMath.max(x, n));
        out[0] = hash(e) * 31 + Double.doubleToLongBits(sum);
        out[1] = Double.doubleToLongBits(VectorMath.dot(x, y, n));
        float[] g = new float[n];
        VectorMath.gelu(x, g, n);
        out[2] = hash(g);
        float[] d = y.clone();
        VectorMath.geluGrad(x, d, n);
        out[3] = hash(d);
        float[] s = y.clone();
        VectorMath.subtractTimes(s, x, 0.25f, n);
        out[4] = hash(s);
        float[] m = x.clone();
        VectorMath.scale(m, n, 0.3f);
        out[5] = hash(m) * 31 + Float.floatToIntBits(VectorMath.max(x, n));
        return out;
    }

    private static long hash(float[] v) {
        long h = 17;
        for (float f : v) {
            h = h * 1_000_003 + Float.floatToRawIntBits(f);
        }
        return h;
    }

    public static void main(String[] args) {
        for (long h : hashes()) {
            System.out.println(h);
        }
    }
}
