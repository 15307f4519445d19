package io.sparkgpt.model.engine;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * A contiguous run of float or double elements in native memory: an ND4J array's own data (a
 * parameter or gradient view, so the engine reads and writes DL4J's flat vectors in place) or a
 * buffer the engine allocates once. The engine's kernels address it by element index, as llm.c
 * addresses its float pointers; {@link Blas} hands its address to cblas.
 *
 * <p>Why two element types: float trains; double serves the gradient check. Kernels do their
 * arithmetic in double and store in the buffer's type, so one kernel serves both.
 */
public abstract sealed class Buf permits Buf.F32, Buf.F64 {

    /** Sources of bulk zeroing (read only). */
    private static final float[] ZERO_FLOATS = new float[1 << 14];
    private static final double[] ZERO_DOUBLES = new double[1 << 13];

    /** The ND4J array that owns the memory (kept so it is not freed while in use). */
    final INDArray owner;
    final int length;

    private Buf(INDArray owner) {
        if (owner.isEmpty() || (owner.rank() > 1 && owner.ordering() != 'c') || owner.elementWiseStride() != 1) {
            throw new IllegalArgumentException("engine buffers are contiguous, c-ordered and non-empty, got "
                    + owner.shapeInfoToString());
        }
        if (owner.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a buffer of " + owner.length() + " elements exceeds 2^31");
        }
        this.owner = owner;
        this.length = (int) owner.length();
    }

    /** The memory of {@code array} itself (no copy): float or double. */
    public static Buf of(INDArray array) {
        return switch (array.dataType()) {
            case FLOAT -> new F32(array);
            case DOUBLE -> new F64(array);
            default -> throw new IllegalArgumentException("the engine runs on FLOAT or DOUBLE, not " + array.dataType());
        };
    }

    /** A new zero-filled buffer of {@code length} elements, outside any workspace. */
    public static Buf allocate(DataType dtype, long length) {
        try (var ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return of(Nd4j.create(dtype, Math.max(1, length)));
        }
    }

    /** Allocates buffers of one element type: the engine's activations follow its parameters' type. */
    @FunctionalInterface
    public interface Factory {
        Buf buf(long length);
    }

    public static Factory allocator(DataType dtype) {
        return n -> allocate(dtype, n);
    }

    public final int length() {
        return length;
    }

    public final DataType dataType() {
        return owner.dataType();
    }

    /** The ND4J array over the same memory. */
    public final INDArray array() {
        return owner;
    }

    /** The elements from {@code offset} on, same memory. */
    public final Buf slice(int offset) {
        INDArray flat = owner.reshape(owner.length());
        return of(flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, (long) length)));
    }

    public abstract double get(int i);

    public abstract void set(int i, double v);

    public final void add(int i, double v) {
        set(i, get(i) + v);
    }

    /** Sets elements [from, from + n) to 0. */
    public abstract void zero(int from, int n);

    /** Copies n elements from src[srcFrom] to this[from] (same element type). */
    public abstract void copyFrom(Buf src, int srcFrom, int from, int n);

    /** The native address of element i, for BLAS. */
    abstract Pointer at(int i);

    private static Pointer base(INDArray a) {
        return a.data().addressPointer();
    }

    /** float32 elements. */
    public static final class F32 extends Buf {
        private final FloatBuffer data;
        private final FloatPointer pointer;

        F32(INDArray owner) {
            super(owner);
            this.pointer = new FloatPointer(base(owner));
            this.data = new FloatPointer(pointer).capacity(pointer.position() + length)
                    .limit(pointer.position() + length).asBuffer();
            if (data.capacity() != length) {
                throw new IllegalStateException("native view of " + length + " floats has " + data.capacity());
            }
        }

        @Override
        public double get(int i) {
            return data.get(i);
        }

        @Override
        public void set(int i, double v) {
            data.put(i, (float) v);
        }

        /** Direct float access for the hot kernels. */
        public float getFloat(int i) {
            return data.get(i);
        }

        public void setFloat(int i, float v) {
            data.put(i, v);
        }

        /** Bulk copies [from, from + n) into dst[0, n): memcpy speed, for kernels that work on float[] rows. */
        public void read(int from, float[] dst, int n) {
            data.get(from, dst, 0, n);
        }

        public void write(int from, float[] src, int n) {
            data.put(from, src, 0, n);
        }

        @Override
        public void zero(int from, int n) {
            for (int done = 0; done < n; done += ZERO_FLOATS.length) {                // bulk puts: memset speed
                data.put(from + done, ZERO_FLOATS, 0, Math.min(ZERO_FLOATS.length, n - done));
            }
        }

        @Override
        public void copyFrom(Buf src, int srcFrom, int from, int n) {
            data.put(from, ((F32) src).data, srcFrom, n);
        }

        @Override
        FloatPointer at(int i) {
            return new FloatPointer(pointer).position(pointer.position() + i);
        }
    }

    /** float64 elements (gradient checks). */
    public static final class F64 extends Buf {
        private final DoubleBuffer data;
        private final DoublePointer pointer;

        F64(INDArray owner) {
            super(owner);
            this.pointer = new DoublePointer(base(owner));
            this.data = new DoublePointer(pointer).capacity(pointer.position() + length)
                    .limit(pointer.position() + length).asBuffer();
            if (data.capacity() != length) {
                throw new IllegalStateException("native view of " + length + " doubles has " + data.capacity());
            }
        }

        @Override
        public double get(int i) {
            return data.get(i);
        }

        @Override
        public void set(int i, double v) {
            data.put(i, v);
        }

        @Override
        public void zero(int from, int n) {
            for (int done = 0; done < n; done += ZERO_DOUBLES.length) {
                data.put(from + done, ZERO_DOUBLES, 0, Math.min(ZERO_DOUBLES.length, n - done));
            }
        }

        @Override
        public void copyFrom(Buf src, int srcFrom, int from, int n) {
            data.put(from, ((F64) src).data, srcFrom, n);
        }

        @Override
        DoublePointer at(int i) {
            return new DoublePointer(pointer).position(pointer.position() + i);
        }
    }
}
