package io.sparkgpt.jobs.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The peak single-precision FLOP/s of this machine as the JVM reaches it: the fastest of a few
 * square sgemms through ND4J's BLAS (the library the training step's matmuls run on), with the
 * thread count this JVM was started with. MFU is measured against it.
 *
 * <p>Best of several runs, not the mean: other processes on a shared machine only ever slow a
 * run down, so the fastest one is the closest to what the hardware can do.
 */
final class PeakFlops {
    /** Large enough that packing and call overhead are noise (17 GFLOP per multiply). */
    private static final int SIZE = 2048;
    private static final int WARMUPS = 2;
    private static final int RUNS = 6;

    private PeakFlops() {
    }

    /** GFLOP/s of the fastest of {@link #RUNS} timed [SIZE, SIZE] x [SIZE, SIZE] multiplies. */
    static double measureGflops() {
        INDArray a = Nd4j.rand(DataType.FLOAT, SIZE, SIZE);
        INDArray b = Nd4j.rand(DataType.FLOAT, SIZE, SIZE);
        INDArray c = Nd4j.create(DataType.FLOAT, SIZE, SIZE);
        double flops = 2.0 * SIZE * SIZE * SIZE;                    // one multiply and one add per inner step
        for (int i = 0; i < WARMUPS; i++) {
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        }
        double bestSeconds = Double.MAX_VALUE;
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            bestSeconds = Math.min(bestSeconds, (System.nanoTime() - t0) / 1e9);
        }
        return flops / bestSeconds / 1e9;
    }
}
