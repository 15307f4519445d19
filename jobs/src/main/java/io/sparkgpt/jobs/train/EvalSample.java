package io.sparkgpt.jobs.train;

import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fixed sample of windows (the same at every evaluation and after a resume), held on the
 * driver: eval_batches x batch windows of a split, drawn from the seed.
 */
final class EvalSample {
    private final List<DataSet> batches = new ArrayList<>();

    EvalSample(WindowData data, int batches, int batch, long seed) {
        int n = (int) Math.min((long) batches * batch, data.count());
        int[] indices = Arrays.copyOf(RoundPlan.shuffled(Math.toIntExact(data.count()), RoundPlan.mix(seed, -1)), n);
        List<int[]> windows = data.collect(indices);
        for (int from = 0; from < windows.size(); from += batch) {
            this.batches.add(WindowData.toDataSet(windows.subList(from, Math.min(windows.size(), from + batch))));
        }
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
}
