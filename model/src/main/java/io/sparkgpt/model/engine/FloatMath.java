package io.sparkgpt.model.engine;

/**
 * The hot float kernels (the cross-entropy's exps, GELU), on the Vector API when the JVM has the
 * incubator module ({@code --add-modules jdk.incubator.vector}: the launcher, the cluster scripts
 * and the conf templates pass it), else in plain Java with the same math to float rounding.
 * {@code -Dsparkgpt.vector=false} forces the plain path.
 */
public final class FloatMath {

    /** Whether the Vector API kernels run. */
    public static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("sparkgpt.vector"));

    private FloatMath() {
    }

    static float max(float[] x, int n) {
        return VECTOR ? VectorMath.max(x, n) : ScalarMath.max(x, n);
    }

    static double expShifted(float[] x, int n, float shift) {
        return VECTOR ? VectorMath.expShifted(x, n, shift) : ScalarMath.expShifted(x, n, shift);
    }

    static void scale(float[] x, int n, float s) {
        if (VECTOR) {
            VectorMath.scale(x, n, s);
        } else {
            ScalarMath.scale(x, n, s);
        }
    }

    /** The sum of x[j] y[j] over [0, n). */
    static double dot(float[] x, float[] y, int n) {
        return VECTOR ? VectorMath.dot(x, y, n) : ScalarMath.dot(x, y, n);
    }

    /** d[j] = p[j] (d[j] - s) over [0, n): softmax's backward given s = sum(p d). */
    static void subtractTimes(float[] d, float[] p, float s, int n) {
        if (VECTOR) {
            VectorMath.subtractTimes(d, p, s, n);
        } else {
            ScalarMath.subtractTimes(d, p, s, n);
        }
    }

    static void gelu(float[] x, float[] out, int n) {
        if (VECTOR) {
            VectorMath.gelu(x, out, n);
        } else {
            ScalarMath.gelu(x, out, n);
        }
    }

    static void geluGrad(float[] x, float[] d, int n) {
        if (VECTOR) {
            VectorMath.geluGrad(x, d, n);
        } else {
            ScalarMath.geluGrad(x, d, n);
        }
    }
}
