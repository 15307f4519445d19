package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A position never sees a later one: changing tokens t+1.. leaves the logits at 0..t unchanged. */
class CausalityTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "llama-tiny"})                     // 64 positions, 2 layers, 4 heads
    void laterTokensNeverChangeEarlierLogits(String preset) {
        GptConfig c = GptConfig.preset(preset);
        ComputationGraph net = GptNetwork.build(c, 11);
        Random rnd = new Random(3);
        int time = c.contextLength();
        INDArray tokens = randomTokens(rnd, 2, time, c.vocabSize());
        INDArray base = GptNetwork.logits(net, tokens);               // [2, T, vocab]
        for (int t : new int[] {0, 1, 17, time - 2}) {
            INDArray changed = tokens.dup();
            changed.get(NDArrayIndex.all(), NDArrayIndex.interval(t + 1, time))
                    .assign(randomTokens(rnd, 2, time - t - 1, c.vocabSize()));
            INDArray logits = GptNetwork.logits(net, changed);
            double before = maxAbsDiff(base, logits, 0, t + 1);
            double after = maxAbsDiff(base, logits, t + 1, time);
            assertEquals(0.0, before, 0.0, "logits at positions <= " + t + " changed by " + before);
            // The test must be able to fail: the changed positions themselves do change.
            assertTrue(after > 1e-3, "positions > " + t + " should change, max diff " + after);
        }
    }

    private static double maxAbsDiff(INDArray a, INDArray b, int from, int to) {
        return a.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all())
                .sub(b.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all()))
                .amaxNumber().doubleValue();
    }

    private static INDArray randomTokens(Random rnd, int batch, int time, int vocab) {
        float[][] ids = new float[batch][time];
        for (float[] row : ids) {
            for (int i = 0; i < time; i++) {
                row[i] = rnd.nextInt(vocab);
            }
        }
        return Nd4j.createFromArray(ids).castTo(DataType.FLOAT);
    }
}
