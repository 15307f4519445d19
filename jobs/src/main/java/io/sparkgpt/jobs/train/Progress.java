package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.checkpoint.TrainingState;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.tokenization.Tokenizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.Optional;

/** The human side of training: one progress line an evaluation, and a sample continuation. */
final class Progress {
    private static final int SAMPLE_TOKENS = 25;

    private Progress() {
    }

    static String line(TrainResult.Evaluation e, long totalSteps, TrainingState s, double seconds, long tokens,
                       long startedNanos) {
        double stepsPerSecond = (double) (e.step()) / ((System.nanoTime() - startedNanos) / 1e9);
        long etaSeconds = (long) ((totalSteps - e.step()) / Math.max(1e-9, stepsPerSecond));
        return String.format("step %d/%d | epoch %d | lr %.2e | train loss %.3f | val loss %.3f | ppl %.1f | "
                        + "%,d tokens seen | %,.0f tokens/s | ETA %dm%02ds", e.step(), totalSteps, s.epoch(), e.lr(),
                e.trainLoss(), e.valLoss(), e.perplexity(), e.tokensSeen(), tokens / seconds, etaSeconds / 60,
                etaSeconds % 60);
    }

    /** A greedy continuation of the prompt, as the book prints during training. */
    static Optional<String> sample(ComputationGraph net, String prompt, String encoding) {
        if (prompt == null || prompt.isBlank()) {
            return Optional.empty();
        }
        Tokenizer tokenizer = Tokenizer.shared(encoding);
        int context = GptNetwork.config(net).contextLength();
        int[] ids = tokenizer.encode(prompt);
        for (int i = 0; i < SAMPLE_TOKENS; i++) {
            int[] window = Arrays.copyOfRange(ids, Math.max(0, ids.length - context), ids.length);
            float[][] x = new float[1][window.length];
            for (int j = 0; j < window.length; j++) {
                x[0][j] = window[j];
            }
            INDArray logits = GptNetwork.logits(net, Nd4j.create(x));              // [1, T, vocab]
            int next = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(window.length - 1), NDArrayIndex.all())
                    .argMax().getInt(0);
            if (next == tokenizer.eotId()) {
                break;
            }
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = next;
        }
        return Optional.of("sample: " + tokenizer.decode(ids).replace("\n", " "));
    }
}
