package io.sparkgpt.model;

import io.sparkgpt.model.Generator.Sampling;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The book's generate() with top-k, temperature and top-p on an untrained model with context 8. */
class GeneratorTest {

    private static final int[] PROMPT = {3, 14, 15, 9};
    private static ComputationGraph net;
    /** The prompt and 6 greedy ids. */
    private static int[] greedy;

    @BeforeAll
    static void untrainedModel() {
        net = GptNetwork.build(new GptConfig(50, 8, 16, 2, 2, 0.1, false), 21);
        net.params().muli(5);                                                        // sharper than uniform logits
        greedy = Generator.generate(net, PROMPT, 6, Sampling.greedy());
    }

    private static int[] generated(int[] out, int promptLength) {
        return Arrays.copyOfRange(out, promptLength, out.length);
    }

    @Test
    void greedyIsDeterministicAndTakesTheArgmaxOfTheLastPosition() {
        int[] out = greedy;
        assertEquals(PROMPT.length + 6, out.length, "prompt + 6 new ids");
        assertArrayEquals(PROMPT, Arrays.copyOf(out, PROMPT.length), "the prompt comes first");
        assertArrayEquals(out, Generator.generate(net, PROMPT, 6, Sampling.greedy()), "same ids again");
        INDArray tokens = Nd4j.createFromArray(new float[][] {{3, 14, 15, 9}});
        INDArray last = GptNetwork.logits(net, tokens).slice(0).slice(PROMPT.length - 1);  // [vocab]
        assertEquals(last.argMax().getInt(0), out[PROMPT.length], "first new id is the argmax");
    }

    @Test
    void topKOneEqualsGreedyAtAnyTemperature() {
        for (double temperature : new double[] {0.5, 5.0}) {
            int[] out = Generator.generate(net, PROMPT, 6, new Sampling(temperature, 1, 1.0, 7, -1));
            assertArrayEquals(greedy, out, "top-k 1 at temperature " + temperature);
        }
    }

    @Test
    void sameSeedReproducesAndAnotherSeedDiffers() {
        Sampling s = new Sampling(1.0, 0, 1.0, 123, -1);
        int[] first = Generator.generate(net, PROMPT, 6, s);
        assertArrayEquals(first, Generator.generate(net, PROMPT, 6, s), "same seed");
        int[] other = Generator.generate(net, PROMPT, 6, new Sampling(1.0, 0, 1.0, 124, -1));
        assertFalse(Arrays.equals(first, other), "another seed: " + Arrays.toString(first));
        assertFalse(Arrays.equals(first, greedy), "sampling is not greedy");
    }

    @Test
    void eosStopsGenerationAndIsNotAppended() {
        int[] greedyNew = generated(greedy, PROMPT.length);
        int firstNew = greedyNew[0];
        int[] stopped = Generator.generate(net, PROMPT, 6, new Sampling(0.0, 0, 1.0, 0, firstNew));
        assertArrayEquals(PROMPT, stopped, "eos = the first greedy id: nothing appended");
        // eos = a later id that did not come out before it: output stops just before it.
        int at = 1;
        while (at < greedyNew.length && appearsBefore(greedyNew, at)) {
            at++;
        }
        assertTrue(at < greedyNew.length, "needs a new id in " + Arrays.toString(greedyNew));
        int[] out = Generator.generate(net, PROMPT, 6, new Sampling(0.0, 0, 1.0, 0, greedyNew[at]));
        assertArrayEquals(Arrays.copyOf(greedyNew, at), generated(out, PROMPT.length), "stopped before index " + at);
    }

    private static boolean appearsBefore(int[] ids, int index) {
        for (int i = 0; i < index; i++) {
            if (ids[i] == ids[index]) {
                return true;
            }
        }
        return false;
    }

    /** The book's generate(): rerun the cropped context for every new token, argmax of the last logits. */
    private static int[] greedyWithoutCache(ComputationGraph net, int[] prompt, int newTokens) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + newTokens);
        for (int n = prompt.length; n < ids.length; n++) {
            int from = Math.max(0, n - 8);
            float[] window = new float[n - from];
            for (int i = from; i < n; i++) {
                window[i - from] = ids[i];
            }
            INDArray logits = GptNetwork.logits(net, Nd4j.createFromArray(new float[][] {window}));
            ids[n] = logits.slice(0).slice(n - from - 1).argMax().getInt(0);
        }
        return ids;
    }

    @Test
    void keyValueCacheGivesTheCachelessGreedyIdsAndLogitsAlsoWhenTheWindowSlides() {
        // 4 + 9 ids outgrow context_length 8: the cache serves 4 tokens, then the window slides.
        assertCacheGivesTheCachelessIdsAndLogits(net);
    }

    private static void assertCacheGivesTheCachelessIdsAndLogits(ComputationGraph net) {
        assertArrayEquals(greedyWithoutCache(net, PROMPT, 9), Generator.generate(net, PROMPT, 9, Sampling.greedy()));
        io.sparkgpt.model.engine.Decoder cache = GptNetwork.decoder(net);
        cache.append(new int[] {3, 14, 15});
        cache.append(new int[] {9});
        double[] cached = cache.append(new int[] {20, 7});
        INDArray full = GptNetwork.logits(net, Nd4j.createFromArray(new float[][] {{3, 14, 15, 9, 20, 7}}));
        for (int v = 0; v < 50; v++) {
            assertEquals(full.getDouble(0, 5, v), cached[v], 1e-5, "logit " + v + " of position 5");
        }
    }

    /** LLaMA's cache keeps keys turned by their positions and serves grouped heads; a slid window starts at 0. */
    @Test
    void llamaKeyValueCacheGivesTheCachelessGreedyIdsAndLogitsAlsoWhenTheWindowSlides() {
        ComputationGraph llama = GptNetwork.build(new GptConfig(50, 8, 16, 4, 2, 0.0, false, false,
                GptConfig.Position.ROTARY, new GptConfig.Llama(2, 24, 1e-5, 100)), 21);
        llama.params().muli(5);
        assertCacheGivesTheCachelessIdsAndLogits(llama);
    }

    @Test
    void contextLongerThanContextLengthIsCropped() {
        int[] longPrompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        int[] lastEight = Arrays.copyOfRange(longPrompt, 12, 20);
        Sampling s = new Sampling(1.0, 5, 0.9, 99, -1);
        int[] out = Generator.generate(net, longPrompt, 5, s);
        assertArrayEquals(generated(Generator.generate(net, lastEight, 5, s), 8), generated(out, 20),
                "only the last context_length ids matter");
    }

    @Test
    void topPOfAlmostZeroKeepsOnlyTheMostLikelyToken() {
        assertArrayEquals(greedy, Generator.generate(net, PROMPT, 6, new Sampling(1.0, 0, 1e-9, 5, -1)));
    }

    /** probs 0.5, 0.3, 0.15, 0.05 with top-p 0.75 sample ids 0 and 1 only, at 5:3. */
    @Test
    void nucleusSamplesOnlyTheNucleusInProportion() {
        double[] probs = {0.5, 0.3, 0.15, 0.05};
        Sampling s = new Sampling(1.0, 0, 0.75, 0, -1);
        SplittableRandom rnd = new SplittableRandom(1);
        int[] counts = new int[4];
        int draws = 20_000;
        for (int i = 0; i < draws; i++) {
            double[] logits = Arrays.stream(probs).map(Math::log).toArray();
            counts[Generator.nextToken(logits, s, rnd)]++;
        }
        assertEquals(0, counts[2] + counts[3], "ids outside the nucleus: " + Arrays.toString(counts));
        assertEquals(0.625, counts[0] / (double) draws, 0.015, "0.5 / 0.8 renormalised: " + Arrays.toString(counts));
    }

    @Test
    void invalidArgumentsAreNamed() {
        assertEquals("topP 0.0 must be in (0, 1] (1 = off)",
                assertThrows(IllegalArgumentException.class, () -> new Sampling(1, 0, 0, 0, -1)).getMessage());
        assertEquals("temperature -1.0 must be finite and >= 0",
                assertThrows(IllegalArgumentException.class, () -> new Sampling(-1, 0, 1, 0, -1)).getMessage());
        assertEquals("prompt must hold at least one token id", assertThrows(IllegalArgumentException.class,
                () -> Generator.generate(net, new int[0], 1, Sampling.greedy())).getMessage());
    }
}
