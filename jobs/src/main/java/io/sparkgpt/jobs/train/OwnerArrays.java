package io.sparkgpt.jobs.train;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * What the owner of shard n keeps in its executor between steps: the shard's parameters and
 * Adam moments after step {@link #step} (-1: not a completed step's, e.g. while an update runs),
 * and the gradient buffer the update consumes, holding step {@link #summedStep}'s batch-mean
 * gradient once the reduce stage summed it here (-1: none, or the update consumed it). When the
 * next step's owner task runs here (the driver asks for this executor), it starts from these
 * instead of fetching the shard's blocks.
 */
final class OwnerArrays {
    private static String currentRun = "";
    private static final Map<Integer, OwnerArrays> BY_SHARD = new HashMap<>();
    private final INDArray params;
    private final INDArray gradient;
    private final INDArray m;
    private final INDArray v;
    long step = -1;
    long summedStep = -1;

    private OwnerArrays(long length) {
        params = Nd4j.create(DataType.FLOAT, length);
        gradient = Nd4j.create(DataType.FLOAT, length);
        m = Nd4j.create(DataType.FLOAT, length);
        v = Nd4j.create(DataType.FLOAT, length);
    }

    /** Shard n's arrays in this JVM for the run (those of an earlier run are dropped). */
    static synchronized OwnerArrays of(String run, int shard, long length) {
        if (!run.equals(currentRun)) {
            BY_SHARD.clear();
            currentRun = run;
        }
        OwnerArrays a = BY_SHARD.get(shard);
        if (a == null || a.params.length() != length) {
            a = new OwnerArrays(length);
            BY_SHARD.put(shard, a);
        }
        return a;
    }

    /** Arrays of {@code length} not kept by any shard (the driver's gather and seed). */
    static OwnerArrays scratch(long length) {
        return new OwnerArrays(length);
    }

    /** Marks the arrays as no completed step's: an update is about to change them in place. */
    void changing() {
        step = -1;
        summedStep = -1;
    }

    INDArray params() {
        return params;
    }

    INDArray gradient() {
        return gradient;
    }

    INDArray m() {
        return m;
    }

    INDArray v() {
        return v;
    }

    /** Copies the little-endian floats of {@code bytes} into {@code target} from float {@code offset}. */
    static void write(INDArray target, long offset, ByteBuffer bytes) {
        FlatState.bytes(target).asFloatBuffer().put(Math.toIntExact(offset),
                bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer(), 0, bytes.remaining() / 4);
    }

    /** Floats [offset, offset + n) of {@code source} as little-endian bytes, into {@code out} at its position. */
    static void read(INDArray source, long offset, int n, ByteBuffer out) {
        ByteBuffer from = FlatState.bytes(source);
        out.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(0, from.asFloatBuffer(), Math.toIntExact(offset), n);
        out.position(out.position() + 4 * n);
    }
}
