package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.VerdictBatches;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A worker's network for a round, whether kept from the last round or built, trains exactly as
 * the network whose state it was given would have gone on training.
 */
class ReusingWorkerTest {
    private static void fit(ComputationGraph net, int[] ids, int step) {
        GptNetwork.setDropoutSeed(net, 1000 + step);
        net.fit(VerdictBatches.batch(ids, step));
    }

    @Test
    void keptAndBuiltWorkerNetworksContinueExactlyAsTheNetworkTheyWereGiven() throws IOException {
        int[] ids = VerdictBatches.ids();
        GptConfig config = GptConfig.preset("tiny").withContextLength(32);
        ComputationGraph kept = GptNetwork.build(config, 1, new Adam(1e-3), 0.1, DataType.FLOAT);
        for (int step = 0; step < 3; step++) {
            fit(kept, ids, step); // last round's network: its graph is planned, its state its own
        }
        ComputationGraph driver = GptNetwork.build(config, 2, new Adam(1e-3), 0.1, DataType.FLOAT);
        for (int step = 10; step < 12; step++) {
            fit(driver, ids, step); // the state this round starts from
        }
        NetBroadcastTuple round = new NetBroadcastTuple(driver.getConfiguration(), driver.params(),
                driver.getUpdater().getStateViewArray());
        ReusingWorker.load(kept, round);
        ComputationGraph built = ReusingWorker.build(round);
        assertEquals(2, kept.getConfiguration().getIterationCount(), "the round's iteration count");
        assertEquals(2, built.getConfiguration().getIterationCount(), "the round's iteration count");

        for (int step = 20; step < 23; step++) {
            fit(driver, ids, step);
            fit(kept, ids, step);
            fit(built, ids, step);
            assertEquals(driver.score(), kept.score(), 1e-6, "kept network, loss of step " + step);
            assertEquals(driver.score(), built.score(), 1e-6, "built network, loss of step " + step);
        }
        assertArrayEquals(driver.params().toFloatVector(), kept.params().toFloatVector(), 1e-7f, "kept parameters");
        assertArrayEquals(driver.params().toFloatVector(), built.params().toFloatVector(), 1e-7f, "built parameters");
    }
}
