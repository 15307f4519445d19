package io.sparkgpt.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fixed position encoding of "Attention Is All You Need" (section 3.5):
 * PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)).
 * A constant of the graph, so it adds no parameters.
 */
public final class SinusoidalPositions {

    private SinusoidalPositions() {
    }

    private static final Map<String, INDArray> CACHE = new ConcurrentHashMap<>();

    /** [contextLength, embDim] table in the given floating point type (cached, detached, read-only use). */
    public static INDArray table(int contextLength, int embDim, DataType dtype) {
        return CACHE.computeIfAbsent(contextLength + "x" + embDim + ":" + dtype, k -> {
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                return compute(contextLength, embDim, dtype);
            }
        });
    }

    static INDArray compute(int contextLength, int embDim, DataType dtype) {
        double[][] pe = new double[contextLength][embDim];
        for (int pos = 0; pos < contextLength; pos++) {
            for (int j = 0; j < embDim; j++) {
                int pair = j / 2;   // dimensions 2i and 2i+1 share one frequency
                double angle = pos / Math.pow(10000.0, 2.0 * pair / embDim);
                pe[pos][j] = (j % 2 == 0) ? Math.sin(angle) : Math.cos(angle);
            }
        }
        return Nd4j.createFromArray(pe).castTo(dtype);
    }
}
