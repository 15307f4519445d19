package io.sparkgpt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;

import io.sparkgpt.model.engine.Decoder;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Text generation of the book (chapter 5.3, {@code generate}) plus nucleus sampling: for each new
 * token, crop the context to its last context_length ids, take the logits of the last position
 * (dropout-free, {@link GptNetwork#logits}), keep the top k, divide by the temperature, keep the
 * top-p nucleus, then sample, or take the argmax when the temperature is 0. Stops early when the
 * end-of-text id comes out (it is not appended).
 *
 * <p>Sampling draws from its own {@link SplittableRandom} seeded by {@link Sampling#seed}, not from
 * ND4J's global RNG, so a seed gives the same text whatever else the JVM does.
 */
public final class Generator {

    /**
     * @param temperature 0 = greedy (argmax); else logits / temperature before sampling
     * @param topK        keep only the k largest logits (ties with the k-th are kept, as the book's
     *                    torch.where); 0 = off
     * @param topP        keep the smallest set of most likely tokens whose probability reaches p
     *                    (nucleus sampling); 1 = off
     * @param seed        seed of the sampler
     * @param eosId       id that ends generation (not appended); -1 = none
     */
    public record Sampling(double temperature, int topK, double topP, long seed, int eosId) {
        public Sampling {
            if (!(temperature >= 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature " + temperature + " must be finite and >= 0");
            }
            if (topK < 0) {
                throw new IllegalArgumentException("topK " + topK + " must be >= 0 (0 = off)");
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("topP " + topP + " must be in (0, 1] (1 = off)");
            }
        }

        /** Argmax decoding without an end-of-text id. */
        public static Sampling greedy() {
            return new Sampling(0.0, 0, 1.0, 0L, -1);
        }
    }

    private Generator() {
    }

    /**
     * The prompt followed by up to maxNewTokens generated ids (fewer if eosId came out), as the
     * book's generate() returns them. The prompt may be longer than context_length.
     */
    public static int[] generate(ComputationGraph net, int[] prompt, int maxNewTokens, Sampling sampling) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must hold at least one token id");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens " + maxNewTokens + " must be >= 0");
        }
        int context = GptNetwork.config(net).contextLength();
        SplittableRandom rnd = new SplittableRandom(sampling.seed());
        int[] ids = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int length = prompt.length;
        Decoder cache = GptNetwork.decoder(net);
        int start = Math.max(0, length - context);
        double[] logits = cache.append(Arrays.copyOfRange(ids, start, length));
        for (int step = 0; step < maxNewTokens; step++) {
            int next = nextToken(logits, sampling, rnd);
            if (next == sampling.eosId()) {
                break;
            }
            ids[length++] = next;
            if (step + 1 == maxNewTokens) {
                break;
            }
            if (length - start <= context) {
                logits = cache.append(new int[] {next});                      // one new row through the blocks
            } else {
                start = length - context;                                     // the window slides: positions shift
                cache.reset();
                logits = cache.append(Arrays.copyOfRange(ids, start, length));
            }
        }
        return Arrays.copyOf(ids, length);
    }

    /** One token id from the last position's logits (modified in place). */
    static int nextToken(double[] logits, Sampling s, SplittableRandom rnd) {
        if (s.topK() > 0 && s.topK() < logits.length) {
            double kth = kthLargest(logits, s.topK());
            for (int i = 0; i < logits.length; i++) {
                if (logits[i] < kth) {
                    logits[i] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        if (s.temperature() == 0) {
            return argmax(logits);
        }
        double[] probs = softmax(logits, s.temperature());
        if (s.topP() < 1) {
            nucleus(probs, s.topP());
        }
        return sample(probs, rnd);
    }

    private static double kthLargest(double[] values, int k) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length - k];
    }

    /** The first index of the largest value, as torch.argmax. */
    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** softmax(logits / temperature), max-subtracted; -inf logits get probability 0. */
    private static double[] softmax(double[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * Zeroes every token outside the nucleus: the most likely tokens, in order, until their total
     * reaches topP (the token that crosses it is kept, so at least one always is). Ties are broken
     * by the lower id so the set is deterministic.
     */
    private static void nucleus(double[] probs, double topP) {
        Integer[] order = new Integer[probs.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
        double cumulative = 0;
        int kept = 0;
        while (kept < order.length && cumulative < topP) {
            cumulative += probs[order[kept++]];
        }
        for (int r = kept; r < order.length; r++) {
            probs[order[r]] = 0;
        }
    }

    /** An index drawn with probability proportional to weights (which need not sum to 1). */
    private static int sample(double[] weights, SplittableRandom rnd) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double u = rnd.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                last = i;
                u -= weights[i];
                if (u < 0) {
                    return i;
                }
            }
        }
        return last;                                                                // rounding: the last candidate
    }
}
