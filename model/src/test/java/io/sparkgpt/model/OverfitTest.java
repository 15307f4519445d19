package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End-to-end learning through DL4J's fit: a tiny model memorises the-verdict.txt (5,145 GPT-2
 * tokens, as in the book's chapter 5) until its train loss, measured without dropout over the
 * whole text, is below 1.0.
 *
 * <p>To keep the test fast, the GPT-2 ids are renumbered densely (the text uses about 1,100 of
 * the 50,257), so the head is 1,100 wide instead of 50,257; the sequence to memorise is the same.
 * The tiny preset's shape otherwise: context 64, emb 64, 4 heads, 2 layers; no dropout.
 */
class OverfitTest {

    @Test
    void tinyModelOverfitsTheVerdict() {
        int[] gpt2Ids = GoldenFiles.tokens("/the-verdict.tokens.txt");
        assertEquals(5145, gpt2Ids.length, "the-verdict.txt has 5,145 GPT-2 tokens");
        int[] distinct = Arrays.stream(gpt2Ids).distinct().sorted().toArray();
        int[] ids = Arrays.stream(gpt2Ids).map(id -> Arrays.binarySearch(distinct, id)).toArray();

        GptConfig tiny = GptConfig.preset("tiny");
        GptConfig c = new GptConfig(distinct.length, tiny.contextLength(), tiny.embDim(), tiny.nHeads(),
                tiny.nLayers(), 0.0, false);
        ComputationGraph net = GptNetwork.build(c, 123, new Adam(5e-3));
        int time = c.contextLength();
        int windows = (ids.length - 1) / time;                                      // 80 windows of 64
        INDArray inputs = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, windows, time);
        INDArray targets = inputs.dup();
        for (int w = 0; w < windows; w++) {
            for (int t = 0; t < time; t++) {
                inputs.putScalar(w, t, ids[w * time + t]);
                targets.putScalar(w, t, ids[w * time + t + 1]);
            }
        }

        double initial = GptNetwork.loss(net, inputs, targets);
        assertEquals(Math.log(c.vocabSize()), initial, 0.1, "untrained loss should be about ln(vocab)");
        Random rnd = new Random(1);
        double loss = initial;
        int step = 0;
        while (step < 600 && loss >= 1.0) {
            for (int i = 0; i < 20; i++, step++) {
                int[] batch = rnd.ints(8, 0, windows).toArray();
                net.fit(new DataSet(inputs.getRows(batch), targets.getRows(batch)));
            }
            loss = GptNetwork.loss(net, inputs, targets);
        }
        System.out.printf("OverfitTest: vocab %d, %d steps of batch 8, train loss %.3f -> %.3f%n",
                c.vocabSize(), step, initial, loss);
        assertTrue(loss < 1.0, "train loss after " + step + " steps is " + loss + " (from " + initial + ")");
    }
}
