package io.sparkgpt.jobs.model;

import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.tokenization.DatasetFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mean next-token cross-entropy of one token stream, over consecutive windows starting at 0,
 * context_length, 2 * context_length, ...: each window predicts the next token at every position
 * that has one, and the last, shorter window counts too.
 */
public final class TextEvaluation {
    /** Loss (nats per predicted token), perplexity, tokens in the text, predictions scored. */
    public record Result(double loss, double perplexity, long tokens, long predictions) {
    }

    private static final int BATCH = 8;

    private TextEvaluation() {
    }

    public static Result evaluate(ComputationGraph net, int[] ids) {
        int context = GptNetwork.config(net).contextLength();
        if (ids.length < 2) {
            throw new IllegalArgumentException("the text has " + ids.length + " tokens: at least 2 are needed "
                    + "to score a prediction");
        }
        double sum = 0;
        long predictions = 0;
        int full = (ids.length - 1) / context; // windows with context predictions each
        for (int w = 0; w < full; w += BATCH) {
            int rows = Math.min(BATCH, full - w);
            sum += windowLoss(net, ids, w * context, rows, context) * rows * context;
            predictions += (long) rows * context;
        }
        int rest = (ids.length - 1) - full * context;
        if (rest > 0) {
            sum += windowLoss(net, ids, full * context, 1, rest) * rest;
            predictions += rest;
        }
        double loss = sum / predictions;
        return new Result(loss, Math.exp(loss), ids.length, predictions);
    }

    /** Mean loss of {@code rows} consecutive windows of {@code length} starting at {@code start}. */
    private static double windowLoss(ComputationGraph net, int[] ids, int start, int rows, int length) {
        float[][] x = new float[rows][length];
        float[][] y = new float[rows][length];
        for (int r = 0; r < rows; r++) {
            DatasetFormat.example(ids, start + r * length, x[r], y[r]);
        }
        INDArray inputs = Nd4j.create(x);
        INDArray targets = Nd4j.create(y);
        return GptNetwork.loss(net, inputs, targets);
    }
}
