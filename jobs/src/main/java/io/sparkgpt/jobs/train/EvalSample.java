package io.sparkgpt.jobs.train;

import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fixed sample of windows (the same at every evaluation and after a resume), held on the
 * driver: eval_batches x batch windows of a split, drawn from the seed. For a classifier, the
 * sample's accuracy too.
 */
final class EvalSample {
    private final List<DataSet> batches = new ArrayList<>();
    private final boolean classification;

    EvalSample(WindowData data, int batches, int batch, long seed) {
        this.classification = data.classification();
        int n = (int) Math.min((long) batches * batch, data.count());
        int[] indices = Arrays.copyOf(RoundPlan.shuffled(Math.toIntExact(data.count()), RoundPlan.mix(seed, -1)), n);
        List<int[]> windows = data.collect(indices);
        for (int from = 0; from < windows.size(); from += batch) {
            this.batches.add(data.toDataSet(windows.subList(from, Math.min(windows.size(), from + batch))));
        }
    }

    /** An evaluation's loss and, for a classifier, accuracy (NaN otherwise, and both NaN if empty). */
    record Score(double loss, double accuracy) {
    }

    boolean isEmpty() {
        return batches.isEmpty();
    }

    /** Mean next-token loss of the network on the sample, without dropout (NaN if empty). */
    double loss(ComputationGraph net) {
        double sum = 0;
        for (DataSet b : batches) {
            sum += GptNetwork.loss(net, b.getFeatures(), b.getLabels());
        }
        return batches.isEmpty() ? Double.NaN : sum / batches.size();
    }

    /** The loss, and a classifier's share of examples whose argmax class is their label. */
    Score score(ComputationGraph net) {
        double loss = loss(net);
        if (!classification || batches.isEmpty()) {
            return new Score(loss, Double.NaN);
        }
        long correct = 0;
        long total = 0;
        for (DataSet b : batches) {
            for (int[] p : GptNetwork.scoredPredictions(net, b.getFeatures(), b.getLabels())) {
                correct += p[0] == p[1] ? 1 : 0;
                total++;
            }
        }
        return new Score(loss, (double) correct / total);
    }
}
