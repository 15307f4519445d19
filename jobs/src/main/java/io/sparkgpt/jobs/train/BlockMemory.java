package io.sparkgpt.jobs.train;

import org.bytedeco.javacpp.BytePointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Native memory for the blocks of sharded averaging, allocated once and reused every round.
 * Measured on the 2-worker cluster: a round allocated ~1 GB of new direct buffers an executor
 * (slices, averages, gathered copies), and the kernel's page faults on that fresh memory cost more
 * than the transfers (0.5-0.8 s of an average task's 1.2 s went to {@code allocateDirect}).
 * <p>
 * Spark frees a direct buffer when its block is removed (its cleaner is invoked), so blocks are
 * stored as {@linkplain #view views}: buffers over the same memory made without a cleaner (through
 * JNI, by JavaCPP), which Spark's dispose leaves alone. The memory stays owned here (pooled
 * buffers) or by the network it aliases (a worker's slices are views of its network's state).
 */
final class BlockMemory {
    /** Pooled buffers are sized in steps of 1 MiB: a run's chunks come in a few sizes. */
    private static final int STEP = 1 << 20;
    private static final Map<Integer, Deque<ByteBuffer>> FREE = new HashMap<>();

    private BlockMemory() {
    }

    /** A little-endian buffer of {@code bytes} remaining, from the pool or new. Give it back with {@link #giveBack}. */
    static synchronized ByteBuffer take(int bytes) {
        int capacity = (int) Math.min(Integer.MAX_VALUE, ((long) bytes + STEP - 1) / STEP * STEP);
        ByteBuffer free = FREE.computeIfAbsent(capacity, c -> new ArrayDeque<>()).poll();
        ByteBuffer out = free != null ? free : ByteBuffer.allocateDirect(capacity);
        out.clear().limit(bytes);
        return out.order(ByteOrder.LITTLE_ENDIAN);
    }

    static synchronized void giveBack(ByteBuffer buffer) {
        FREE.computeIfAbsent(buffer.capacity(), c -> new ArrayDeque<>()).push(buffer);
    }

    /** Drops the free buffers (the garbage collector then frees them): when a run ends in a JVM that outlives it. */
    static synchronized void clear() {
        FREE.clear();
    }

    /**
     * A buffer over {@code length} bytes of {@code direct} from byte {@code offset}, with no cleaner
     * and no parent, so that Spark's dispose of a removed block does not free (or refuse) it. Valid
     * while {@code direct}'s memory is: the caller keeps that alive until the block is removed.
     */
    static ByteBuffer view(ByteBuffer direct, long offset, int length) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        BytePointer at = new BytePointer(direct.duplicate().clear()).getPointer(offset);
        return at.limit(length).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
}
