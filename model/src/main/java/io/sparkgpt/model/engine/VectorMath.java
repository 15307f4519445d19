package io.sparkgpt.model.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float kernels on the Vector API (JDK 17 incubator), loaded only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (see {@link FloatMath}); tails run scalar.
 * <p>
 * Every kernel gives the same bits interpreted and compiled, so that training is a function of
 * its inputs: only IEEE basic operations (add, mul, fma, compare, integer adds on the bits), and
 * lanes summed in order. The Vector API's own {@code EXP} and {@code TANH} are Intel's SVML routines once
 * C2 compiles them but {@code Math.exp} before: with them a run's numbers depended on when the
 * JIT got to the kernels (measured: two runs of one test differing from the fourth digit of a
 * parameter). exp here is Cephes' expf (range reduction by ln 2, a degree-5 polynomial, 2^n
 * added to the exponent bits): within 1 ulp of Math.exp, 1.4x SVML's time (30.8 against 21.7
 * us for a 50,257-logit row), and GELU is written with it.
 */
final class VectorMath {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);
    /** Below this exp is 0 (the smallest normal float is e^-87.34); above it, exp's 2^n would overflow. */
    private static final float EXP_LOW = -87.33f;
    private static final float EXP_HIGH = 88.3f;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts (Cephes): n ln 2 subtracted exactly enough for float. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 x 2^23: adding it leaves a float rounded to an integer n in the low mantissa bits (bits - ROUND_BITS = n). */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToIntBits(ROUND);
    private static final FloatVector V_LOG2E = broadcast(LOG2E);
    private static final FloatVector V_ROUND = broadcast(ROUND);
    private static final FloatVector V_MINUS_LN2_HI = broadcast(-LN2_HI);
    private static final FloatVector V_MINUS_LN2_LO = broadcast(-LN2_LO);
    /** Cephes expf's polynomial. */
    private static final FloatVector P0 = broadcast(1.9875691500e-4f);
    private static final FloatVector P1 = broadcast(1.3981999507e-3f);
    private static final FloatVector P2 = broadcast(8.3334519073e-3f);
    private static final FloatVector P3 = broadcast(4.1665795894e-2f);
    private static final FloatVector P4 = broadcast(1.6666665459e-1f);
    private static final FloatVector P5 = broadcast(5.0000001201e-1f);

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
            FloatVector e = exp(FloatVector.fromArray(S, x, j).sub(shift));
            e.intoArray(x, j);
            acc = acc.add(e);
        }
        double sum = sumLanes(acc);
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
        double sum = sumLanes(acc);
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

    /**
     * out = 0.5 x (1 + tanh(c (x + 0.044715 x^3))), written with E = e^2u (u the tanh's argument)
     * as 1 + tanh(u) = 2E / (E + 1) and 1 - tanh(u)^2 = 4E / (E + 1)^2: no 1 + t that cancels
     * where tanh nears -1.
     */
    static void gelu(float[] x, float[] out, int n) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector e = exp(v.mul(v).mul(v).mul(0.044715f).add(v).mul(2 * GELU_C));
            v.mul(e.div(e.add(1f))).intoArray(out, j);
        }
        for (; j < n; j++) {
            out[j] = (float) ScalarMath.gelu(x[j]);
        }
    }

    /** d[j] *= GELU'(x[j]) = E q + 2 x E q q c (1 + 3 0.044715 x^2), with q = 1 / (E + 1) (see {@link #gelu}). */
    static void geluGrad(float[] x, float[] d, int n) {
        int j = 0;
        for (; j < S.loopBound(n); j += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector v2 = v.mul(v);
            FloatVector e = exp(v2.mul(v).mul(0.044715f).add(v).mul(2 * GELU_C));
            FloatVector q = broadcast(1f).div(e.add(1f));
            FloatVector eq = e.mul(q);
            FloatVector g = eq.add(v.mul(eq).mul(q).mul(2 * GELU_C).mul(v2.mul(3 * 0.044715f).add(1f)));
            FloatVector.fromArray(S, d, j).mul(g).intoArray(d, j);
        }
        for (; j < n; j++) {
            d[j] *= (float) ScalarMath.geluGrad(x[j]);
        }
    }

    /**
     * The lanes summed first to last, in float. On HotSpot 17 (x86) C2's float add reduction is
     * ordered lane by lane, as the Java fallback is: the same bits (tested), at the cost of a
     * reduction that cannot be a tree.
     */
    private static float sumLanes(FloatVector v) {
        return v.reduceLanes(VectorOperators.ADD);
    }

    /** e^x lane by lane: Cephes' expf; 0 below {@link #EXP_LOW}. */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LOW).min(EXP_HIGH);
        FloatVector t = c.fma(V_LOG2E, V_ROUND); // round(x / ln 2) in its low mantissa bits
        FloatVector n = t.sub(V_ROUND);
        FloatVector r = n.fma(V_MINUS_LN2_LO, n.fma(V_MINUS_LN2_HI, c)); // x - n ln 2, |r| <= ln 2 / 2
        FloatVector p = r.fma(P0, P1).fma(r, P2).fma(r, P3).fma(r, P4).fma(r, P5);
        FloatVector e = p.mul(r.mul(r)).add(r).add(1f);
        // e 2^n: n added to e's exponent bits (integer ops; the Vector API's float-to-int convert is slow in JDK 17)
        IntVector scaled = e.reinterpretAsInts().add(t.reinterpretAsInts().sub(ROUND_BITS).mul(1 << 23));
        return scaled.reinterpretAsFloats().blend(0f, x.compare(VectorOperators.LT, EXP_LOW));
    }

    private static FloatVector broadcast(float v) {
        return FloatVector.broadcast(S, v);
    }
}
