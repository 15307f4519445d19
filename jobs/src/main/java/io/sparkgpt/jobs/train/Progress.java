package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.checkpoint.TrainingState;
import io.sparkgpt.model.Generator;
import io.sparkgpt.tokenization.Tokenizer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Optional;

/** The human side of training: one progress line an evaluation, and a sample continuation. */
final class Progress {
    private static final int SAMPLE_TOKENS = 25;

    private Progress() {
    }

    /** The progress line; the ETA is from this run's pace (a resumed run started at {@code firstStep}). */
    static String line(TrainResult.Evaluation e, long totalSteps, TrainingState s, double seconds, long tokens,
                       long startedNanos, long firstStep) {
        double stepsPerSecond = (double) (e.step() - firstStep) / ((System.nanoTime() - startedNanos) / 1e9);
        long etaSeconds = (long) ((totalSteps - e.step()) / Math.max(1e-9, stepsPerSecond));
        return String.format("step %d/%d | epoch %d | lr %.2e | train loss %.3f | val loss %.3f | %s | "
                        + "%,d tokens seen | %,.0f tokens/s | ETA %dm%02ds", e.step(), totalSteps, s.epoch(), e.lr(),
                e.trainLoss(), e.valLoss(), quality(e), e.tokensSeen(), tokens / seconds, etaSeconds / 60,
                etaSeconds % 60);
    }

    static String initialLine(TrainResult.Evaluation e, long totalSteps) {
        return String.format("step 0/%d (before training) | train loss %.3f | val loss %.3f | %s", totalSteps,
                e.trainLoss(), e.valLoss(), quality(e));
    }

    /** A classifier's accuracies (the book's chapter 6 prints them), else the perplexity. */
    private static String quality(TrainResult.Evaluation e) {
        return e.hasAccuracy() ? String.format("train acc %.2f%% | val acc %.2f%%", 100 * e.trainAccuracy(),
                100 * e.valAccuracy()) : String.format("ppl %.1f", e.perplexity());
    }

    /** Where to watch a run: the Spark UI when it is on, and the metrics file. */
    static String whereToWatch(scala.Option<String> sparkUi, String metrics) {
        return sparkUi.isDefined() ? "watch the run: Spark UI at " + sparkUi.get() + "; metrics in " + metrics
                : "watch the run: metrics in " + metrics + " (the Spark UI is off)";
    }

    /** A greedy continuation of the prompt, as the book prints during training. */
    static Optional<String> sample(ComputationGraph net, String prompt, String encoding) {
        if (prompt == null || prompt.isBlank()) {
            return Optional.empty();
        }
        Tokenizer tokenizer = Tokenizer.shared(encoding);
        Generator.Sampling greedy = new Generator.Sampling(0, 0, 1.0, 0, tokenizer.eotId());
        int[] ids = Generator.generate(net, tokenizer.encode(prompt), SAMPLE_TOKENS, greedy);
        return Optional.of("sample: " + tokenizer.decode(ids).replace("\n", " "));
    }
}
