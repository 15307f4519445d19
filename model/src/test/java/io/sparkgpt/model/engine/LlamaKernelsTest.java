package io.sparkgpt.model.engine;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LLaMA's float kernels (heap copies) against the generic ones on double buffers holding the same
 * float values: every value stored once is the same float (the arithmetic is the same, with one
 * rounding at the store); RMSNorm's weight gradient, rounded a row at a time in float, agrees to 1e-6.
 */
class LlamaKernelsTest {
    private static final int ROWS = 5;
    private static final int C = 12;

    private static Buf filled(DataType type, int n, long seed) {
        Buf b = Buf.allocator(type).buf(n);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b.set(i, (float) (random.nextGaussian() * 2));
        }
        return b;
    }

    private static float[] floats(Buf b, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) b.get(i);
        }
        return out;
    }

    @Test
    void rmsNormForwardAndBackwardGiveTheGenericPathsFloats() {
        Buf[] f = {filled(DataType.FLOAT, ROWS * C, 1), filled(DataType.FLOAT, C, 2), filled(DataType.FLOAT,
                ROWS * C, 3), filled(DataType.FLOAT, ROWS * C, 4), filled(DataType.FLOAT, C, 5)};
        Buf[] d = {filled(DataType.DOUBLE, ROWS * C, 1), filled(DataType.DOUBLE, C, 2), filled(DataType.DOUBLE,
                ROWS * C, 3), filled(DataType.DOUBLE, ROWS * C, 4), filled(DataType.DOUBLE, C, 5)};
        Buf outF = Buf.allocator(DataType.FLOAT).buf(ROWS * C);
        Buf outD = Buf.allocator(DataType.DOUBLE).buf(ROWS * C);
        Buf rstdF = Buf.allocator(DataType.FLOAT).buf(ROWS);
        Buf rstdD = Buf.allocator(DataType.DOUBLE).buf(ROWS);
        LlamaKernels.rmsNorm(outF, f[0], ROWS, C, f[1], 1e-5, rstdF);
        LlamaKernels.rmsNorm(outD, d[0], ROWS, C, d[1], 1e-5, rstdD);
        assertArrayEquals(floats(outD, ROWS * C), floats(outF, ROWS * C));
        assertArrayEquals(floats(rstdD, ROWS), floats(rstdF, ROWS));
        for (int r = 0; r < ROWS; r++) {
            rstdD.set(r, rstdF.get(r));                                        // backward reads the stored rstd
        }
        // dx (f[3]) and dw (f[4]) are added into: each dx element once, dw once a row.
        LlamaKernels.rmsNormBackward(f[3], f[4], f[2], f[0], f[1], rstdF, ROWS, C);
        LlamaKernels.rmsNormBackward(d[3], d[4], d[2], d[0], d[1], rstdD, ROWS, C);
        assertArrayEquals(floats(d[3], ROWS * C), floats(f[3], ROWS * C));
        for (int i = 0; i < C; i++) {
            assertEquals(d[4].get(i), f[4].get(i), 1e-6 * Math.max(1, Math.abs(d[4].get(i))), "dw " + i);
        }
    }

    @Test
    void swigluAndRotaryGiveTheGenericPathsFloats() {
        int n = 9000;                                                           // more than one run of 4096
        Buf gateF = filled(DataType.FLOAT, n, 6);
        Buf upF = filled(DataType.FLOAT, n, 7);
        Buf doutF = filled(DataType.FLOAT, n, 8);
        Buf gateD = filled(DataType.DOUBLE, n, 6);
        Buf upD = filled(DataType.DOUBLE, n, 7);
        Buf doutD = filled(DataType.DOUBLE, n, 8);
        Buf outF = Buf.allocator(DataType.FLOAT).buf(n);
        Buf outD = Buf.allocator(DataType.DOUBLE).buf(n);
        LlamaKernels.swiglu(outF, gateF, upF, n);
        LlamaKernels.swiglu(outD, gateD, upD, n);
        assertArrayEquals(floats(outD, n), floats(outF, n));
        Buf dgF = Buf.allocator(DataType.FLOAT).buf(n);
        Buf duF = Buf.allocator(DataType.FLOAT).buf(n);
        Buf dgD = Buf.allocator(DataType.DOUBLE).buf(n);
        Buf duD = Buf.allocator(DataType.DOUBLE).buf(n);
        LlamaKernels.swigluBackward(dgF, duF, doutF, gateF, upF, n);
        LlamaKernels.swigluBackward(dgD, duD, doutD, gateD, upD, n);
        assertArrayEquals(floats(dgD, n), floats(dgF, n));
        assertArrayEquals(floats(duD, n), floats(duF, n));

        Rotary rotary = new Rotary(8, 4, 100);
        int ld = 4 * 2 + 2 * 4;                                                 // 2 q heads and 1 k, 1 v head of 4
        Buf qkvF = filled(DataType.FLOAT, 6 * ld, 9);
        Buf qkvD = filled(DataType.DOUBLE, 6 * ld, 9);
        rotary.apply(qkvF, 6, 3, 2, ld, 8, 2, 1, false);
        rotary.apply(qkvD, 6, 3, 2, ld, 8, 2, 1, false);
        assertArrayEquals(floats(qkvD, 6 * ld), floats(qkvF, 6 * ld));
    }
}
