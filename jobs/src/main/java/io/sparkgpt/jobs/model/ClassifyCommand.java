package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.train.ClassifierRuns;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sparkgpt classify}: each text's label and class probabilities from a train-classifier
 * checkpoint, as the book's classify_review: the text's first max_length ids (no padding: the
 * key/value-cache decoder reads the last real token's logits directly).
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify texts with a train-classifier checkpoint: each text's label and class probabilities.")
public final class ClassifyCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "URI",
            description = "A train-classifier checkpoint (step-N) or its run's directory (the newest valid one).")
    String checkpoint;
    @Option(names = "--text", paramLabel = "TEXT", description = "A text to classify (repeatable).")
    List<String> texts;
    @Option(names = "--input", paramLabel = "FILE", description = "Or: a file of texts, one a line (any Hadoop "
            + "file system; empty lines are skipped).")
    String input;
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    /** One text's prediction. */
    public record Prediction(String text, String label, Map<String, Double> probabilities) {
    }

    @Override
    public Integer call() throws Exception {
        Configuration conf = new Configuration();
        List<String> all = texts(conf);
        CheckpointStore.Loaded loaded = CheckpointSource.open(checkpoint, conf);
        if (!GptConfig.fromJson(loaded.checkpoint().modelConfigJson()).isClassifier()) {
            throw new UserInputException("--checkpoint " + checkpoint + " is a language model's: classify needs a "
                    + "checkpoint of sparkgpt train-classifier (use generate for this one)");
        }
        ClassifierRuns.Classes classes = ClassifierRuns.readClasses(loaded.path(), conf);
        ComputationGraph net = NetworkCheckpoints.forInference(loaded.checkpoint());
        List<Prediction> predictions = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            predictions.add(classify(net, classes, all.get(i), i));
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("checkpoint", loaded.path().toString());
            m.put("labels", classes.labels());
            m.put("predictions", predictions.stream().map(p -> Map.of("text", p.text(), "label", p.label(),
                    "probabilities", p.probabilities())).toList());
            System.out.println(Json.of(m));
        } else {
            predictions.forEach(p -> System.out.printf("%s\t%.4f\t%s%n", p.label(), p.probabilities().get(p.label()),
                    p.text()));
        }
        return 0;
    }

    private List<String> texts(Configuration conf) throws IOException {
        if ((texts == null) == (input == null)) {
            throw new UserInputException("give --text TEXT (one or more) or --input FILE, not both or neither");
        }
        if (texts != null) {
            return texts;
        }
        Path file = new Path(input);
        if (!file.getFileSystem(conf).exists(file)) {
            throw new UserInputException("--input " + input + " does not exist: name a file of texts, one a line");
        }
        try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n"))
                    .filter(l -> !l.isBlank()).toList();
        }
    }

    /** Softmax of the head's logits at the text's last token (of its first max_length). */
    static Prediction classify(ComputationGraph net, ClassifierRuns.Classes classes, String text, int index) {
        int[] ids = Tokenizer.shared(classes.encoding()).encode(text);
        if (ids.length == 0) {
            throw new UserInputException("text " + (index + 1) + " is empty: give some text to classify");
        }
        int keep = Math.min(ids.length, Math.min(classes.maxLength(), GptNetwork.config(net).contextLength()));
        double[] logits = GptNetwork.decoder(net).append(Arrays.copyOf(ids, keep));
        double max = Arrays.stream(logits).max().orElseThrow();
        double sum = Arrays.stream(logits).map(z -> Math.exp(z - max)).sum();
        Map<String, Double> p = new LinkedHashMap<>();
        int best = 0;
        for (int k = 0; k < logits.length; k++) {
            p.put(classes.labels().get(k), Math.exp(logits[k] - max) / sum);
            best = logits[k] > logits[best] ? k : best;
        }
        return new Prediction(text, classes.labels().get(best), p);
    }
}
