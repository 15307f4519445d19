package io.sparkgpt.model.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorMathTest {
    /**
     * A child JVM that only interprets (-Xint: the Vector API's Java fallbacks) against this one
     * after the JIT compiled the kernels (intrinsics): training's numbers must not depend on
     * when the JIT gets to them.
     */
    @Test
    void kernelsGiveTheSameBitsInterpretedAndCompiled() throws IOException, InterruptedException {
        assertTrue(FloatMath.VECTOR, "the tests run with --add-modules jdk.incubator.vector");
        for (int i = 0; i < 20_000; i++) {
            KernelBits.hashes(); // C2 compiles the kernels
        }
        long[] compiled = KernelBits.hashes();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xint", "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                KernelBits.class.getName()).redirectErrorStream(false).start();
        String printed = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.waitFor(), new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        List<String> lines = printed.lines().toList();
        long[] interpreted = lines.stream().mapToLong(Long::parseLong).toArray();
        assertArrayEquals(interpreted, compiled, "exp+sum, dot, gelu, geluGrad, subtractTimes, scale+max: "
                + Arrays.toString(interpreted) + " vs " + Arrays.toString(compiled));
    }

    @Test
    void expIsWithinTwoUlpOfMathExpAndZeroBelowTheFloatRange() {
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = -100f + 190f * i / x.length; // -100 .. 90: underflow to overflow
        }
        float[] e = x.clone();
        VectorMath.expShifted(e, x.length - x.length % 16, 0f);
        for (int i = 0; i < x.length - x.length % 16; i++) {
            float want = (float) Math.exp(x[i]);
            if (x[i] < -87.33f) {
                assertEquals(0f, e[i], "exp(" + x[i] + ")");
            } else if (x[i] <= 88.3f) {
                assertTrue(Math.abs(e[i] - want) <= 2 * Math.ulp(want), "exp(" + x[i] + ") = " + e[i] + ", not " + want);
            }
        }
    }

    @Test
    void geluIsWithinFloatRoundingOfTheDoubleFormula() {
        float[] x = KernelBits.inputs(1024, 4, 3);
        float[] g = new float[x.length];
        VectorMath.gelu(x, g, x.length);
        float[] d = new float[x.length];
        Arrays.fill(d, 1f);
        VectorMath.geluGrad(x, d, x.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            assertEquals(ScalarMath.gelu(x[i]), g[i], 2e-7 * Math.max(1, Math.abs(x[i])), "gelu(" + x[i] + ")");
            assertEquals(ScalarMath.geluGrad(x[i]), d[i], 1e-6, "gelu'(" + x[i] + ")");
            worst = Math.max(worst, Math.abs(ScalarMath.gelu(x[i]) - g[i]));
        }
        assertTrue(worst > 0, "the vector path ran (it rounds differently from the double formula)");
    }
}
