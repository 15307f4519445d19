package io.sparkgpt.model.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float kernels on the Vector API (JDK 17 incubator; exp and tanh compile to Intel's SVML
 * routines): measured 6.5x faster than Math.exp for the cross-entropy's exps and ~15x for GELU
 * on this machine's AVX-512. Loaded only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (see {@link FloatMath}); tails run scalar.
 */
final class VectorMath {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);

    private VectorMath() {
    }

    static float max(float[] x, int n) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            m = m.max(FloatVector.fromArray(S, x, j));
        }
        float out = m.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) {
            out = Math.max(out, x[j]);
        }
        return out;
    }

    /** x[j] = exp(x[j] - shift); returns the sum (lanes in float, then the tail). */
    static double expShifted(float[] x, int n, float shift) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, j).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(x, j);
            acc = acc.add(e);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            x[j] = (float) Math.exp(x[j] - shift);
            sum += x[j];
        }
        return sum;
    }

    static void scale(float[] x, int n, float s) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector.fromArray(S, x, j).mul(s).intoArray(x, j);
        }
        for (; j < n; j++) {
            x[j] *= s;
        }
    }

    /** Lanes accumulate in float, then the tail in double. */
    static double dot(float[] x, float[] y, int n) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            acc = FloatVector.fromArray(S, x, j).fma(FloatVector.fromArray(S, y, j), acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            sum += x[j] * y[j];
        }
        return sum;
    }

    static void subtractTimes(float[] d, float[] p, float s, int n) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector.fromArray(S, d, j).sub(s).mul(FloatVector.fromArray(S, p, j)).intoArray(d, j);
        }
        for (; j < n; j++) {
            d[j] = p[j] * (d[j] - s);
        }
    }

    /** out = 0.5 x (1 + tanh(c (x + 0.044715 x^3))). */
    static void gelu(float[] x, float[] out, int n) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector t = v.mul(v).mul(v).mul(0.044715f).add(v).mul(GELU_C).lanewise(VectorOperators.TANH);
            t.add(1f).mul(v).mul(0.5f).intoArray(out, j);
        }
        for (; j < n; j++) {
            out[j] = (float) ScalarMath.gelu(x[j]);
        }
    }

    /** d[j] *= GELU'(x[j]). */
    static void geluGrad(float[] x, float[] d, int n) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector v2 = v.mul(v);
            FloatVector t = v2.mul(v).mul(0.044715f).add(v).mul(GELU_C).lanewise(VectorOperators.TANH);
            FloatVector dt = t.mul(t).neg().add(1f).mul(v2.mul(3 * 0.044715f).add(1f)).mul(GELU_C);
            FloatVector g = t.add(1f).mul(0.5f).add(v.mul(dt).mul(0.5f));
            FloatVector.fromArray(S, d, j).mul(g).intoArray(d, j);
        }
        for (; j < n; j++) {
            d[j] *= (float) ScalarMath.geluGrad(x[j]);
        }
    }
}
