package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * metrics.jsonl (one JSON line an evaluation; a resumed run appends) and loss.png (train and
 * validation loss against steps, with tokens seen on the title, like the book's plot_losses),
 * both in the checkpoint directory, written through the Hadoop FileSystem API. Object stores
 * can't append, so each write replaces the small file by temporary name and rename.
 */
final class MetricsLog {
    static final String METRICS = "metrics.jsonl";
    static final String CURVE = "loss.png";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path directory;

    MetricsLog(FileSystem fs, Path directory) {
        this.fs = fs;
        this.directory = directory;
    }

    Path metricsPath() {
        return fs.makeQualified(new Path(directory, METRICS));
    }

    Path curvePath() {
        return path(CURVE);
    }

    /** The qualified path of the small file {@code name} beside the metrics. */
    Path path(String name) {
        return fs.makeQualified(new Path(directory, name));
    }

    /** Replaces the small file {@code name} beside the metrics (classes.json, confusion.json and .png too). */
    void replace(String name, byte[] content) throws IOException {
        replace(new Path(directory, name), content);
    }

    static Map<String, Object> line(TrainResult.Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", e.step());
        m.put("tokens_seen", e.tokensSeen());
        m.put("lr", e.lr());
        m.put("train_loss", e.trainLoss());
        m.put("val_loss", e.valLoss());
        if (!e.hasAccuracy()) {
            m.put("perplexity", e.perplexity());                     // a language model's, not a classifier's
        }
        m.put("tokens_per_s", e.tokensPerSecond());
        if (e.hasAccuracy()) {
            m.put("train_accuracy", e.trainAccuracy());
            m.put("val_accuracy", e.valAccuracy());
        }
        return m;
    }

    void append(TrainResult.Evaluation e) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        Path file = new Path(directory, METRICS);
        if (fs.exists(file)) {
            try (FSDataInputStream in = fs.open(file)) {
                in.transferTo(all);
            }
        }
        all.write(JSON.writeValueAsBytes(line(e)));
        all.write('\n');
        replace(file, all.toByteArray());
    }

    /** Draws every evaluation of the run so far (resumed runs included, from metrics.jsonl). */
    void drawCurve(List<TrainResult.Evaluation> evaluations) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).xAxisTitle("step").yAxisTitle("loss")
                .title(String.format("sparkgpt: loss over %,d tokens seen", evaluations.get(evaluations.size() - 1)
                        .tokensSeen())).build();
        double[] steps = evaluations.stream().mapToDouble(TrainResult.Evaluation::step).toArray();
        chart.addSeries("training loss", steps,
                evaluations.stream().mapToDouble(TrainResult.Evaluation::trainLoss).toArray());
        chart.addSeries("validation loss", steps,
                evaluations.stream().mapToDouble(TrainResult.Evaluation::valLoss).toArray());
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        replace(new Path(directory, CURVE), png);
    }

    /**
     * Earlier evaluations of this checkpoint directory up to the step training continues from (a
     * resumed run continues the curve). Lines past it, written by a run that died before its next
     * checkpoint, are dropped from the file: the resumed run evaluates those steps again.
     */
    List<TrainResult.Evaluation> readThrough(long step) throws IOException {
        Path file = new Path(directory, METRICS);
        List<TrainResult.Evaluation> out = new java.util.ArrayList<>();
        if (!fs.exists(file)) {
            return out;
        }
        StringBuilder kept = new StringBuilder();
        boolean dropped = false;
        try (FSDataInputStream in = fs.open(file)) {
            for (String l : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (l.isBlank()) {
                    continue;
                }
                var n = JSON.readTree(l);
                if (n.get("step").asLong() > step) {
                    dropped = true;
                    continue;
                }
                kept.append(l).append('\n');
                out.add(new TrainResult.Evaluation(n.get("step").asLong(), n.get("tokens_seen").asLong(),
                        n.get("lr").asDouble(), n.get("train_loss").asDouble(), n.get("val_loss").asDouble(),
                        n.get("tokens_per_s").asDouble(), n.path("train_accuracy").asDouble(Double.NaN),
                        n.path("val_accuracy").asDouble(Double.NaN)));
            }
        }
        if (dropped) {
            replace(file, kept.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }

    private void replace(Path file, byte[] content) throws IOException {
        Path tmp = new Path(directory, "." + file.getName() + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(content);
        }
        fs.delete(file, false);
        if (!fs.rename(tmp, file)) {
            throw new IOException("could not write " + file);
        }
    }
}
