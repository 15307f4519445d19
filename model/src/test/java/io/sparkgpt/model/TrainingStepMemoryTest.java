package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine allocates its buffers on the first step of a (batch, T) and reuses them: later
 * steps (forward, fused head + loss, backward, dropout on) create no ND4J buffer and take no
 * memory from malloc. Counted by the allocators themselves: ND4J's buffer counter (every native
 * ND4J buffer, view or not, draws an id from it) and glibc's mallinfo2.
 */
class TrainingStepMemoryTest {

    /** One activation [B, T, C] is 8 * 64 * 64 floats = 128 KiB; a leak of one a step shows at once. */
    private static final GptConfig CONFIG = new GptConfig(1000, 64, 64, 4, 2, 0.1, true);
    private static final int STEPS = 10;
    private static final int WINDOWS = 5;

    private static INDArray randomIds(Random rnd) {
        INDArray ids = Nd4j.create(DataType.FLOAT, 8, CONFIG.contextLength());
        for (int b = 0; b < 8; b++) {
            for (int t = 0; t < CONFIG.contextLength(); t++) {
                ids.putScalar(b, t, rnd.nextInt(CONFIG.vocabSize()));
            }
        }
        return ids;
    }

    /** ND4J buffers created since the last call (the counter's own draw excluded). */
    private static long buffersCreatedSince(long mark) {
        return Nd4j.getDeallocatorService().nextValue() - mark - 1;
    }

    @Test
    void trainingStepsAfterTheFirstCreateNoNd4jBufferAndTakeNoNativeMemory() {
        Random rnd = new Random(3);
        ComputationGraph net = GptNetwork.build(CONFIG, 7, new Adam(1e-3));
        INDArray inputs = randomIds(rnd);
        INDArray targets = randomIds(rnd);
        net.fit(new DataSet(inputs, targets));                                     // allocates the engine's buffers
        GptLayerImpl layer = (GptLayerImpl) net.getLayer(GptNetwork.LAYER);
        LayerWorkspaceMgr noWorkspaces = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(inputs, noWorkspaces);
        layer.setLabels(targets);
        for (int i = 0; i < 5; i++) {
            layer.backpropGradient(null, noWorkspaces);                             // JIT warm-up
        }

        long created = 0;
        long leastHeapGrowth = Long.MAX_VALUE;
        for (int window = 0; window < WINDOWS; window++) {
            long heapBefore = NativeHeap.bytesInUse();
            long mark = Nd4j.getDeallocatorService().nextValue();
            for (int i = 0; i < STEPS; i++) {
                layer.backpropGradient(null, noWorkspaces);                         // DL4J's training step of the layer
            }
            created += buffersCreatedSince(mark);
            // The least growth of several windows: the JIT mallocs now and then, a leak in every window.
            leastHeapGrowth = Math.min(leastHeapGrowth, NativeHeap.bytesInUse() - heapBefore);
        }

        assertEquals(0, created, "ND4J buffers created by " + WINDOWS * STEPS + " steps after the first");
        assertTrue(leastHeapGrowth < 64 * 1024, "malloc'ed bytes held after " + STEPS + " more steps grew by at least "
                + leastHeapGrowth + " (a leak of one [B, T, C] activation a step would be " + STEPS * 128 * 1024 + ")");
    }
}
