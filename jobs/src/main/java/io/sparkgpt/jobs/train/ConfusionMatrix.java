package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkgpt.model.GptNetwork;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A classifier's confusion matrix on a split (rows: the true label, columns: the predicted one),
 * written at the end of train-classifier as confusion.json and confusion.png beside the metrics.
 */
public record ConfusionMatrix(List<String> labels, long[][] counts, String split, long step, String json,
                              String png) {
    static final String JSON_FILE = "confusion.json";
    static final String PNG_FILE = "confusion.png";
    /** At most this many examples of the split are classified (on the driver). */
    static final int MAX_EXAMPLES = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Classifies the split's first examples (up to {@link #MAX_EXAMPLES}) in batches. */
    static long[][] count(ComputationGraph net, WindowData data, int classes, int batch) {
        int n = (int) Math.min(MAX_EXAMPLES, data.count());
        List<int[]> examples = data.collect(IntStream.range(0, n).toArray());
        long[][] counts = new long[classes][classes];
        for (int from = 0; from < examples.size(); from += batch) {
            DataSet b = data.toDataSet(examples.subList(from, Math.min(examples.size(), from + batch)));
            for (int[] p : GptNetwork.scoredPredictions(net, b.getFeatures(), b.getLabels())) {
                counts[p[0]][p[1]]++;
            }
        }
        return counts;
    }

    public long total() {
        long t = 0;
        for (long[] row : counts) {
            for (long c : row) {
                t += c;
            }
        }
        return t;
    }

    public double accuracy() {
        long right = 0;
        for (int i = 0; i < counts.length; i++) {
            right += counts[i][i];
        }
        return total() == 0 ? Double.NaN : (double) right / total();
    }

    /** Writes confusion.json and confusion.png beside {@code log}'s metrics; returns the matrix with their paths. */
    static ConfusionMatrix write(List<String> labels, long[][] counts, String split, long step, MetricsLog log)
            throws IOException {
        ConfusionMatrix m = new ConfusionMatrix(labels, counts, split, step, log.path(JSON_FILE).toString(),
                log.path(PNG_FILE).toString());
        log.replace(JSON_FILE, JSON.writeValueAsBytes(m.toMap()));
        log.replace(PNG_FILE, m.image());
        return m;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("split", split);
        m.put("step", step);
        m.put("labels", labels);
        m.put("matrix", counts);                                   // [true label][predicted label]
        m.put("examples", total());
        m.put("accuracy", accuracy());
        return m;
    }

    private byte[] image() throws IOException {
        HeatMapChart chart = new HeatMapChartBuilder().width(200 + 120 * labels.size())
                .height(160 + 100 * labels.size()).title(String.format("%s confusion at step %d: accuracy %.2f%%",
                        split, step, 100 * accuracy())).xAxisTitle("predicted").yAxisTitle("true").build();
        chart.getStyler().setShowValue(true).setMin(0);
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < labels.size(); t++) {
            for (int p = 0; p < labels.size(); p++) {
                cells.add(new Number[] {p, labels.size() - 1 - t, counts[t][p]});  // the first label on top
            }
        }
        List<String> top = new ArrayList<>(labels);
        java.util.Collections.reverse(top);
        chart.addSeries("examples", labels, top, cells);
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }
}
