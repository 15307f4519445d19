package io.sparkgpt.jobs.train;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A network's state cut into shards and chunks and put back together is the same state. */
class FlatStateTest {

    @Test
    void chunksCutAnywhereAndViewedWithoutCopyMoveParametersAndAdamMomentsExactly() {
        GptConfig model = GptConfig.preset("tiny").withContextLength(16);
        ComputationGraph source = GptNetwork.build(model, 1, new Adam(1e-3), 0.1, 1.0, DataType.FLOAT);
        ComputationGraph target = GptNetwork.build(model, 2, new Adam(1e-3), 0.1, 1.0, DataType.FLOAT);
        source.getUpdater().getStateViewArray().assign(0.25);
        StateLayout layout = new StateLayout("t", source.numParams(),
                source.getUpdater().getStateViewArray().length(), 4, 100_003);
        FlatState from = new FlatState(source);
        FlatState to = new FlatState(target);
        boolean endsAtParams = false;
        long next = 0;
        for (int n = 0; n < layout.shards(); n++) {
            for (long[] chunk : layout.chunks(n)) {
                assertEquals(next, chunk[0], "chunks tile the state");
                assertTrue(chunk[1] - chunk[0] <= 100_003);
                assertFalse(chunk[0] < layout.params() && chunk[1] > layout.params(), "no chunk spans two arrays");
                endsAtParams |= chunk[1] == layout.params();
                assertEquals(from.read(chunk[0], chunk[1]), from.view(chunk[0], chunk[1]), "a view shows the values");
                next = to.write(chunk[0], from.view(chunk[0], chunk[1]));
            }
        }
        assertEquals(layout.length(), next, "the whole state");
        assertTrue(endsAtParams, "a chunk is cut short at the parameters' end");
        assertArrayEquals(source.params().toFloatVector(), target.params().toFloatVector(), 0f);
        assertArrayEquals(source.getUpdater().getStateViewArray().toFloatVector(),
                target.getUpdater().getStateViewArray().toFloatVector(), 0f);
    }

    @Test
    void onlyBlocksNoRoundNeedsAreObsolete() {
        StateLayout layout = new StateLayout("run1", 10, 20, 2, 8);
        assertTrue(layout.obsoleteInTrain(5, layout.slice(4, 1, 0, 1)), "round 4's slices, averaged already");
        assertFalse(layout.obsoleteInTrain(5, layout.slice(5, 1, 0, 1)), "round 5's own slices");
        assertFalse(layout.obsoleteInTrain(5, layout.averaged(4, 0, 0)), "round 5 reads round 4's average");
        assertFalse(layout.obsoleteInTrain(5, layout.averaged(3, 0, 0)), "kept until round 4's are copied");
        assertTrue(layout.obsoleteInTrain(5, layout.averaged(2, 0, 0)));
        assertFalse(layout.obsoleteInAverage(5, layout.slice(5, 0, 0, 1)), "the slices being averaged");
        assertTrue(layout.obsoleteInAverage(5, layout.averaged(3, 0, 0)), "round 4's are copied: trained from");
        assertFalse(layout.obsoleteInAverage(5, layout.averaged(4, 0, 0)), "a rerun of round 5 reads them");
        assertFalse(new StateLayout("run2", 10, 20, 2, 8).obsoleteInTrain(5, layout.averaged(2, 0, 0)),
                "another run's");
        assertEquals(3, layout.chunks(0).size(), "shard 0 is floats [0, 15), parameters [0, 10): chunks of 8, 2 and 5");
        assertEquals(List.of(8L, 10L, 15L), layout.chunks(0).stream().map(c -> c[1]).toList());
    }
}
