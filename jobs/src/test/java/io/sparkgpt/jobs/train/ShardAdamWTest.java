package io.sparkgpt.jobs.train;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdamW applied shard by shard gives every element the bits the network's own updater gives it. */
class ShardAdamWTest {
    private static final int BATCH = 2;
    private static final int CONTEXT = 16;

    @Test
    void twoShardsStepLikeTheNetworksUpdaterBitForBit() {
        GptConfig model = GptConfig.preset("tiny").withContextLength(CONTEXT).withDropRate(0.0);
        ComputationGraph updated = GptNetwork.build(model, 1, new Adam(3e-3), 0.1, 0.0, DataType.FLOAT);
        ComputationGraph sharded = GptNetwork.build(model, 1, new Adam(3e-3), 0.1, 0.0, DataType.FLOAT);
        long n = sharded.numParams();
        long[] bounds = {0, n / 3, n}; // a cut inside a parameter tensor
        ShardAdamW[] shards = {ShardAdamW.of(sharded, bounds[0], bounds[1]), ShardAdamW.of(sharded, bounds[1], bounds[2])};
        Random random = new Random(7);
        for (int iteration = 0; iteration < 3; iteration++) {
            INDArray[] tokens = {ids(random), ids(random)};
            updated.fit(new INDArray[]{tokens[0]}, new INDArray[]{tokens[1]}); // DL4J: gradient / batch, Adam, decay
            sharded.setInputs(tokens[0]);
            sharded.setLabels(tokens[1]);
            sharded.computeGradientAndScore();
            INDArray mean = sharded.getFlattenedGradients().div(BATCH).reshape(n); // the owners' sum over one worker, / batch
            INDArray state = sharded.getUpdater().getStateViewArray();
            INDArray params = sharded.params().reshape(n); // a view: [1, n] as [n]
            for (int s = 0; s < 2; s++) {
                long from = bounds[s];
                long to = bounds[s + 1];
                INDArray p = params.get(NDArrayIndex.interval(from, to)).dup();
                INDArray g = mean.get(NDArrayIndex.interval(from, to)).dup();
                INDArray m = Nd4j.create(DataType.FLOAT, to - from);
                INDArray v = Nd4j.create(DataType.FLOAT, to - from);
                shards[s].fromNetwork(state, m, v);
                shards[s].step(p, g, m, v, 1.0, iteration, 0);
                shards[s].toNetwork(m, v, state);
                params.get(NDArrayIndex.interval(from, to)).assign(p);
            }
            assertEquals(0, differing(updated.params(), sharded.params()), "parameters after step " + (iteration + 1));
            assertEquals(0, differing(updated.getUpdater().getStateViewArray(), state), "Adam's moments after step "
                    + (iteration + 1));
        }
    }

    @Test
    void aStepIntoTheOtherSideGivesTheInPlaceBitsAndLeavesItsInputsAlone() {
        GptConfig model = GptConfig.preset("tiny").withContextLength(CONTEXT).withDropRate(0.0);
        ComputationGraph net = GptNetwork.build(model, 1, new Adam(3e-3), 0.1, 0.0, DataType.FLOAT);
        long n = net.numParams();
        ShardAdamW shard = ShardAdamW.of(net, n / 3, n); // matrices with decay, norms and biases without
        long length = shard.length();
        Nd4j.getRandom().setSeed(11);
        ShardAdamW.State before = new ShardAdamW.State(Nd4j.randn(DataType.FLOAT, length),
                Nd4j.randn(DataType.FLOAT, length).muli(1e-3), Nd4j.rand(DataType.FLOAT, length).muli(1e-6));
        INDArray gradient = Nd4j.randn(DataType.FLOAT, length).muli(1e-2);
        ShardAdamW.State kept = new ShardAdamW.State(before.params().dup(), before.m().dup(), before.v().dup());
        ShardAdamW.State inPlace = new ShardAdamW.State(before.params().dup(), before.m().dup(), before.v().dup());
        ShardAdamW.State after = ShardAdamW.State.of(length);

        shard.step(inPlace, inPlace, gradient.dup(), 0.5, 4, 0);
        shard.step(before, after, gradient.dup(), 0.5, 4, 0);

        assertEquals(0, differing(inPlace.params(), after.params()), "parameters");
        assertEquals(0, differing(inPlace.m(), after.m()), "m");
        assertEquals(0, differing(inPlace.v(), after.v()), "v");
        assertEquals(0, differing(kept.params(), before.params()) + differing(kept.m(), before.m())
                + differing(kept.v(), before.v()), "the state stepped from");
        long moved = differing(kept.params(), after.params()); // all but those whose update rounds away
        assertTrue(moved > 0.99 * length, moved + " of " + length + " parameters moved");
    }

    private static INDArray ids(Random random) {
        int[][] ids = new int[BATCH][CONTEXT];
        for (int[] row : ids) {
            for (int t = 0; t < CONTEXT; t++) {
                row[t] = random.nextInt(50257);
            }
        }
        return Nd4j.createFromArray(ids).castTo(DataType.FLOAT);
    }

    private static long differing(INDArray a, INDArray b) {
        float[] x = a.toFloatVector();
        float[] y = b.toFloatVector();
        long count = 0;
        for (int i = 0; i < x.length; i++) {
            count += Float.floatToIntBits(x[i]) == Float.floatToIntBits(y[i]) ? 0 : 1;
        }
        return count;
    }
}
