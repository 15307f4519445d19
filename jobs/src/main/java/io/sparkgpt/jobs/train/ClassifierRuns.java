package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.Checkpoint;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.model.CheckpointSource;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.model.GptParams;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
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

    /**
     * A run's config with its model made the dataset's classifier, and the --from checkpoint of a new
     * fine-tuning run (null otherwise), read once: its config here, its weights by {@link #start}.
     */
    record Resolved(TrainConfig config, Checkpoint pretrained) {
    }

    /** The config with its model made the dataset's classifier; refuses a dataset of the other task. */
    static Resolved resolve(TrainConfig c, DatasetInfo d, Configuration hadoop) throws IOException {
        if (!c.classifies()) {
            if (d.classification()) {
                throw new UserInputException("--data " + d.directory() + " is a classification dataset (labels "
                        + d.labels() + "): train a classifier on it with sparkgpt train-classifier");
            }
            return new Resolved(c, null);
        }
        if (!d.classification()) {
            throw new UserInputException("--data " + d.directory() + " holds language-model windows: make a "
                    + "classification dataset with sparkgpt tokenize --label-field for train-classifier");
        }
        GptConfig model = c.model();
        Checkpoint pretrained = null;
        if (!model.isClassifier()) {                                // a new run (a resumed one records its classifier)
            if (c.classifier().from() != null) {
                if (c.passed("model")) {
                    throw new UserInputException("give --from or --preset/--config, not both: the --from "
                            + "checkpoint's model is the one fine-tuned");
                }
                pretrained = pretrained(c, hadoop);
                model = GptConfig.fromJson(pretrained.modelConfigJson());
            }
            model = model.asClassifier(d.labels().size());
        }
        if (model.numClasses() != d.labels().size()) {
            throw new UserInputException("the run's model has num_classes " + model.numClasses() + " but --data "
                    + d.directory() + " has " + d.labels().size() + " labels: train it in a new --checkpoint-dir");
        }
        return new Resolved(c.with(Map.of("model", model)), pretrained);
    }

    /**
     * A classifier run's start: a new fine-tuning run's pretrained weights into {@code net}, and
     * classes.json (written by {@code log}, beside the metrics).
     */
    static void start(Resolved r, ComputationGraph net, DatasetInfo d, MetricsLog log) throws IOException {
        if (r.pretrained() != null) {
            copyPretrained(net, r.pretrained(), r.config().classifier().from());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("labels", d.labels());
        m.put("max_length", d.maxLength());
        m.put("encoding", d.encoding());
        log.replace(CLASSES_JSON, JSON.writeValueAsBytes(m));
    }

    /**
     * Copies every parameter of the --from checkpoint into {@code net} but the head, which keeps its
     * fresh init (the book's chapter 6 replaces out_head). The decoders must have the same shape.
     */
    private static void copyPretrained(ComputationGraph net, Checkpoint pretrained, String from) {
        ComputationGraph source = NetworkCheckpoints.forInference(pretrained);
        GptConfig target = GptNetwork.config(net);
        Map<String, INDArray> given = source.getLayer(GptNetwork.LAYER).paramTable();
        Map<String, INDArray> into = net.getLayer(GptNetwork.LAYER).paramTable();
        for (GptParams.Spec s : GptParams.specs(target)) {
            if (s.name().equals(GptParams.SCORE)) {
                continue;
            }
            INDArray p = given.get(s.name());
            if (p == null || !Arrays.equals(p.shape(), s.shape())) {
                throw new UserInputException("--from " + from + " has no parameter " + s.name()
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

    /** classes.json of the run that wrote {@code checkpoint} (a step directory or the run's directory). */
    public static Classes readClasses(Path checkpoint, Configuration hadoop) throws IOException {
        FileSystem fs = checkpoint.getFileSystem(hadoop);
        for (Path dir : List.of(checkpoint, checkpoint.getParent())) {     // a run's directory, or a step's in it
            Path file = new Path(dir, CLASSES_JSON);
            if (fs.exists(file)) {
                try (FSDataInputStream in = fs.open(file)) {
                    JsonNode n = JSON.readTree((java.io.InputStream) in);
                    List<String> labels = new ArrayList<>();
                    n.get("labels").forEach(l -> labels.add(l.asText()));
                    return new Classes(labels, n.get("max_length").asInt(), n.get("encoding").asText());
                }
            }
        }
        throw new UserInputException("--checkpoint " + checkpoint + " has no " + CLASSES_JSON + " beside it: "
                + "name a checkpoint written by sparkgpt train-classifier");
    }
}
