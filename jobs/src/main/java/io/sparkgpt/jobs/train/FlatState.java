package io.sparkgpt.jobs.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A network's synchronized state as one float range: the flat parameters [0, P), then the
 * updater's flat state (Adam's m and v) [P, P + U). Reads and writes go straight between ND4J's
 * native buffers and little-endian byte buffers (bulk copies, no per-element work, no Java
 * serialization); writing in place is what {@code setParams} and the updater's
 * {@code assign} do.
 */
final class FlatState {
    private final ComputationGraph net;
    private final ByteBuffer paramBytes;
    private final ByteBuffer updaterBytes;
    private final FloatBuffer params;
    private final FloatBuffer updater;

    FlatState(ComputationGraph net) {
        this.net = net;
        this.paramBytes = bytes(net.params());
        INDArray state = net.getUpdater().getStateViewArray();
        this.updaterBytes = state == null ? ByteBuffer.allocateDirect(0) : bytes(state);
        this.params = paramBytes.asFloatBuffer();
        this.updater = updaterBytes.asFloatBuffer();
    }

    static StateLayout layout(ComputationGraph net, String run, int shards) {
        INDArray state = net.getUpdater().getStateViewArray();
        return new StateLayout(run, net.params().length(), state == null ? 0 : state.length(), shards,
                StateLayout.chunkFloats(shards));
    }

    static ByteBuffer bytes(INDArray a) {
        // The flat arrays are (reshaped) views of their whole buffer: offset 0, dense.
        if (a.dataType() != DataType.FLOAT || a.offset() != 0 || a.data().length() != a.length()
                || a.elementWiseStride() != 1) {
            throw new IllegalStateException("expected a dense float array over its whole buffer, got "
                    + a.shapeInfoToString());
        }
        Nd4j.getExecutioner().commit();
        return a.data().asNio().order(ByteOrder.nativeOrder());
    }

    /** The network whose memory this state is (what keeps {@link #view}s valid). */
    ComputationGraph network() {
        return net;
    }

    /**
     * Floats [from, to), lying in the parameters or in the optimizer state (not across), as a
     * little-endian buffer over the network's own memory: no copy. It shows the network's values
     * for as long as the network is alive and not changed (see {@link BlockMemory#view}). A
     * big-endian machine gets a copy instead.
     */
    ByteBuffer view(long from, long to) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return read(from, to);
        }
        long p = params.capacity();
        if (from < p && to > p) {
            throw new IllegalArgumentException("floats [" + from + ", " + to + ") cross the end of the parameters (" + p + ")");
        }
        int length = Math.toIntExact(4 * (to - from));
        return from < p ? BlockMemory.view(paramBytes, 4 * from, length)
                : BlockMemory.view(updaterBytes, 4 * (from - p), length);
    }

    /** A new little-endian buffer (outside the Java heap) holding floats [from, to). */
    ByteBuffer read(long from, long to) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.toIntExact(4 * (to - from))).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer out = bytes.asFloatBuffer();
        long p = params.capacity();
        if (from < p) {
            out.put(params.slice((int) from, (int) (Math.min(to, p) - from)));
        }
        if (to > p) {
            long start = Math.max(from, p) - p;
            out.put(updater.slice((int) start, (int) (to - p - start)));
        }
        return bytes;
    }

    /** Writes the floats in {@code bytes} (little-endian) to the state from float index {@code from}; returns the next index. */
    long write(long from, ByteBuffer bytes) {
        FloatBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int n = in.remaining();
        long p = params.capacity();
        int toParams = (int) Math.max(0, Math.min(n, p - from));
        if (toParams > 0) {
            params.put((int) from, in, 0, toParams);
        }
        if (n > toParams) {
            updater.put((int) (from + toParams - p), in, toParams, n - toParams);
        }
        return from + n;
    }
}
