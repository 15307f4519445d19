package io.sparkgpt.model.engine;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Row-major GEMM on engine buffers at element offsets: C = alpha op(A) op(B) + beta C, with
 * op(A) [m, k], op(B) [k, n], C [m, n] and leading dimensions lda, ldb, ldc (elements between
 * rows of the stored matrices). The same cblas_sgemm ND4J's rank-2 Mmul reaches, called directly
 * so strided views (a head's columns of qkv) need neither an INDArray nor a copy.
 */
public final class Blas {

    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    private Blas() {
    }

    /** One stored matrix operand: buffer, offset of element [0, 0], leading dimension. */
    public record Mat(Buf buf, int offset, int ld) {
        public static Mat of(Buf buf, int offset, int ld) {
            return new Mat(buf, offset, ld);
        }
    }

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            Mat a, Mat b, double beta, Mat c) {
        check(a, transA ? k : m, transA ? m : k, "A");
        check(b, transB ? n : k, transB ? k : n, "B");
        check(c, m, n, "C");
        int ta = transA ? TRANS : NO_TRANS;
        int tb = transB ? TRANS : NO_TRANS;
        if (c.buf() instanceof Buf.F32 cf) {
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, (float) alpha,
                    (FloatPointer) a.buf().at(a.offset()), a.ld(), (FloatPointer) b.buf().at(b.offset()), b.ld(),
                    (float) beta, cf.at(c.offset()), c.ld());
        } else {
            openblas_nolapack.cblas_dgemm(ROW_MAJOR, ta, tb, m, n, k, alpha,
                    (DoublePointer) a.buf().at(a.offset()), a.ld(), (DoublePointer) b.buf().at(b.offset()), b.ld(),
                    beta, (DoublePointer) c.buf().at(c.offset()), c.ld());
        }
    }

    /** The stored matrix [rows, cols] with leading dimension ld must lie inside its buffer: BLAS does not check. */
    private static void check(Mat x, int rows, int cols, String name) {
        long last = x.offset() + (long) (rows - 1) * x.ld() + cols - 1;
        if (rows <= 0 || cols <= 0 || x.ld() < cols || x.offset() < 0 || last >= x.buf().length()) {
            throw new IllegalArgumentException("gemm operand " + name + " [" + rows + ", " + cols + "] at offset "
                    + x.offset() + " with ld " + x.ld() + " does not fit its buffer of " + x.buf().length());
        }
    }
}
