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
 * <p>
 * The state has two sides, so that a round's end is published without a copy: its parameter and
 * moment blocks are views of the side that holds it ({@link #held}), and the next round's first
 * update writes the other side, leaving the round's start intact for a restart until the round
 * after (see {@link GradientBlocks#writableSide}). Between round ends an update works in place.
 */
final class OwnerArrays {
    private static String currentRun = "";
    private static final Map<Integer, OwnerArrays> BY_SHARD = new HashMap<>();
    private final long length;
    private final INDArray gradient;
    private final ShardAdamW.State[] sides = new ShardAdamW.State[2];
    /** Per side, the step whose kept blocks are views of its arrays (-1: none). */
    private final long[] held = {-1, -1};
    /** The side that holds the state of {@link #step}. */
    private int current;
    long step = -1;
    long summedStep = -1;

    private OwnerArrays(long length) {
        this.length = length;
        this.gradient = Nd4j.create(DataType.FLOAT, length);
        this.sides[0] = ShardAdamW.State.of(length);
    }

    /** Shard n's arrays in this JVM for the run (those of an earlier run are dropped). */
    static synchronized OwnerArrays of(String run, int shard, long length) {
        if (!run.equals(currentRun)) {
            BY_SHARD.clear();
            currentRun = run;
        }
        OwnerArrays a = BY_SHARD.get(shard);
        if (a == null || a.length != length) {
            a = new OwnerArrays(length);
            BY_SHARD.put(shard, a);
        }
        return a;
    }

    /** Arrays of {@code length} not kept by any shard (the driver's gather and seed). */
    static OwnerArrays scratch(long length) {
        return new OwnerArrays(length);
    }

    /** Marks the arrays as no completed step's: an update is about to change them. */
    void changing() {
        step = -1;
        summedStep = -1;
    }

    /** Side i's arrays (the second is allocated when first used). */
    ShardAdamW.State side(int i) {
        if (sides[i] == null) {
            sides[i] = ShardAdamW.State.of(length);
        }
        return sides[i];
    }

    int current() {
        return current;
    }

    /** Side i holds the state from now on (of {@link #step}, once set). */
    void use(int side) {
        current = side;
    }

    /** The step whose kept blocks are views of side i (-1: none). */
    long held(int side) {
        return held[side];
    }

    void hold(int side, long keptStep) {
        held[side] = keptStep;
    }

    /** The side whose kept blocks are step {@code s}'s, or -1. */
    int sideHolding(long s) {
        return held[0] == s ? 0 : held[1] == s ? 1 : -1;
    }

    ShardAdamW.State state() {
        return side(current);
    }

    INDArray params() {
        return state().params();
    }

    INDArray gradient() {
        return gradient;
    }

    INDArray m() {
        return state().m();
    }

    INDArray v() {
        return state().v();
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
