package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.Checkpoint;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.model.CheckpointSource;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.model.GptParams;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What makes a train run a classifier's (train-classifier): the model is the given decoder (or
 * the --from checkpoint's) with a num_classes head; the pretrained weights but the head are
 * copied in; classes.json beside the checkpoints keeps the label names, max_length and encoding
 * that classify needs.
 */
public final class ClassifierRuns {
    static final String CLASSES_JSON = "classes.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ClassifierRuns() {
    }

    /** The label names, the examples' length and the encoding of a classifier's run. */
    public record Classes(List<String> labels, int maxLength, String encoding) {
    }

    /** The config with its model made the dataset's classifier; refuses a dataset of the other task. */
    static TrainConfig resolve(TrainConfig c, DatasetInfo d, Configuration hadoop) throws IOException {
        if (!c.classifies()) {
            if (d.classification()) {
                throw new UserInputException("--data " + d.directory() + " is a classification dataset (labels "
                        + d.labels() + "): train a classifier on it with sparkgpt train-classifier");
            }
            return c;
        }
        if (!d.classification()) {
            throw new UserInputException("--data " + d.directory() + " holds language-model windows: make a "
                    + "classification dataset with sparkgpt tokenize --label-field for train-classifier");
        }
        GptConfig model = c.model();
        if (!model.isClassifier()) {
            if (c.classifier().from() != null) {
                if (c.passed("model")) {
                    throw new UserInputException("give --from or --preset/--config, not both: the --from "
                            + "checkpoint's model is the one fine-tuned");
                }
                model = GptConfig.fromJson(pretrained(c, hadoop).modelConfigJson());
            }
            model = model.asClassifier(d.labels().size());
        }
        if (model.numClasses() != d.labels().size()) {
            throw new UserInputException("the run's model has num_classes " + model.numClasses() + " but --data "
                    + d.directory() + " has " + d.labels().size() + " labels: train it in a new --checkpoint-dir");
        }
        return c.with(Map.of("model", model));
    }

    /**
     * Copies every parameter of the --from checkpoint into {@code net} but the head, which keeps its
     * fresh init (the book's chapter 6 replaces out_head). The decoders must have the same shape.
     */
    static void copyPretrained(ComputationGraph net, TrainConfig c, Configuration hadoop) throws IOException {
        ComputationGraph source = NetworkCheckpoints.forInference(pretrained(c, hadoop));
        GptConfig target = GptNetwork.config(net);
        Map<String, INDArray> from = source.getLayer(GptNetwork.LAYER).paramTable();
        Map<String, INDArray> into = net.getLayer(GptNetwork.LAYER).paramTable();
        for (GptParams.Spec s : GptParams.specs(target)) {
            if (s.name().equals(GptParams.SCORE)) {
                continue;
            }
            INDArray p = from.get(s.name());
            if (p == null || !Arrays.equals(p.shape(), s.shape())) {
                throw new UserInputException("--from " + c.classifier().from() + " has no parameter " + s.name()
                        + " of shape " + Arrays.toString(s.shape()) + ": fine-tune a checkpoint of this model");
            }
            into.get(s.name()).assign(p);
        }
    }

    private static Checkpoint pretrained(TrainConfig c, Configuration hadoop) throws IOException {
        Checkpoint checkpoint = CheckpointSource.open(c.classifier().from(), hadoop).checkpoint();
        if (GptConfig.fromJson(checkpoint.modelConfigJson()).isClassifier()) {
            throw new UserInputException("--from " + c.classifier().from() + " is a classifier's checkpoint: "
                    + "fine-tune a language model's, or --resume that run");
        }
        return checkpoint;
    }

    static void writeClasses(CheckpointStore store, DatasetInfo d, Configuration hadoop) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("labels", d.labels());
        m.put("max_length", d.maxLength());
        m.put("encoding", d.encoding());
        FileSystem fs = store.directory().getFileSystem(hadoop);
        try (FSDataOutputStream out = fs.create(new Path(store.directory(), CLASSES_JSON), true)) {
            out.write(JSON.writeValueAsBytes(m));
        }
    }

    /** classes.json of the run that wrote {@code checkpoint} (a step directory or the run's directory). */
    public static Classes readClasses(Path checkpoint, Configuration hadoop) throws IOException {
        FileSystem fs = checkpoint.getFileSystem(hadoop);
        for (Path dir = checkpoint; dir != null; dir = dir.getParent()) {
            Path file = new Path(dir, CLASSES_JSON);
            if (fs.exists(file)) {
                try (FSDataInputStream in = fs.open(file)) {
                    JsonNode n = JSON.readTree((java.io.InputStream) in);
                    List<String> labels = new ArrayList<>();
                    n.get("labels").forEach(l -> labels.add(l.asText()));
                    return new Classes(labels, n.get("max_length").asInt(), n.get("encoding").asText());
                }
            }
            if (dir.equals(checkpoint.getParent())) {
                break;                                                  // the step directory and its run only
            }
        }
        throw new UserInputException("--checkpoint " + checkpoint + " has no " + CLASSES_JSON + " beside it: "
                + "name a checkpoint written by sparkgpt train-classifier");
    }
}
