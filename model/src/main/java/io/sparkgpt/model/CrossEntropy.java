package io.sparkgpt.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Next-token cross-entropy computed as logsumexp(logits) - logit[target], with the row max
 * subtracted before exp, so it stays finite for any finite logits (as PyTorch's cross_entropy).
 *
 * <p>Why not ND4J's sparse softmax cross-entropy op: in 1.0.0-M2.1 it returns -log(softmax),
 * and the softmax of a target whose logit is ~104 below the row max underflows to 0 in float,
 * so the loss becomes Infinity (measured: weights x25 give Infinity where PyTorch gives ~416).
 */
final class CrossEntropy {

    private CrossEntropy() {
    }

    /**
     * Sum over rows of logsumexp(logits[i]) - logits[i, targets[i]], accumulated in double.
     * logits [N, vocab] are overwritten (exp is taken in place: the arrays are head-sized);
     * targets hold N ids (any shape, as floats or ints).
     */
    static double sumInPlace(INDArray logits, INDArray targets) {
        long n = logits.size(0);
        long vocab = logits.size(1);
        int[] ids = targets.reshape(n).toIntVector();
        double[] picked = new double[(int) n];
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("target id " + ids[i] + " is outside [0, " + vocab + ")");
            }
            picked[i] = logits.getDouble(i, ids[i]);
        }
        INDArray max = logits.max(1);                                               // [N]
        logits.subiColumnVector(max);                                               // every value <= 0
        Transforms.exp(logits, false);                                              // in (0, 1], the max is 1
        double[] sums = logits.sum(1).castTo(DataType.DOUBLE).toDoubleVector();     // each >= 1: log is finite
        double[] maxs = max.castTo(DataType.DOUBLE).toDoubleVector();
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += maxs[i] + Math.log(sums[i]) - picked[i];
        }
        return total;
    }
}
