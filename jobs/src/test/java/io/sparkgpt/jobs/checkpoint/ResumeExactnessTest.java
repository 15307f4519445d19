package io.sparkgpt.jobs.checkpoint;

import io.sparkgpt.jobs.VerdictBatches;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Training continued from a checkpoint takes exactly the steps of training that never stopped. */
class ResumeExactnessTest {
    static final long SEED = 11;
    @TempDir
    Path tmp;

    /** Trains steps [from, to). */
    private static List<Double> train(ComputationGraph net, int[] ids, int from, int to) {
        List<Double> losses = new ArrayList<>();
        for (int step = from; step < to; step++) {
            net.fit(VerdictBatches.batch(ids, step));
            losses.add(net.score());
        }
        return losses;
    }

    @Test
    void lossesAfterRestoringACheckpointEqualThoseOfAnUninterruptedRunWithDropout() throws IOException {
        int[] ids = VerdictBatches.ids();
        // drop_rate 0.1: the masks are a function of the seed and the iteration count, which the
        // checkpoint restores with the parameters and Adam's state.
        GptConfig config = GptConfig.preset("tiny").withContextLength(32);
        assertEquals(0.1, config.dropRate());
        ComputationGraph net = GptNetwork.build(config, SEED, new Adam(1e-3), 0.1, DataType.FLOAT);
        train(net, ids, 0, 3);

        CheckpointStore store = new CheckpointStore(tmp.toUri().toString(), new Configuration());
        TrainingState state = new TrainingState(3, 3 * 4 * 32, 0, 3, SEED, Double.NaN, -1);
        Checkpoint saved = NetworkCheckpoints.capture(net, state);
        Checkpoint loaded = store.load(store.save(saved));
        List<Double> uninterrupted = train(net, ids, 3, 6);

        ComputationGraph resumed = NetworkCheckpoints.restore(loaded, new Adam(1e-3), 0.1);
        assertEquals(3, resumed.getConfiguration().getIterationCount(), "iteration count restored");
        INDArray params = resumed.params().dup();
        assertArrayEquals(saved.parameters(), params.toFloatVector(), "parameters bit-identical");
        List<Double> afterResume = train(resumed, ids, 3, 6);
        for (int i = 0; i < 3; i++) {
            assertEquals(uninterrupted.get(i), afterResume.get(i), 1e-6, "loss of step " + (4 + i));
        }
    }
}
