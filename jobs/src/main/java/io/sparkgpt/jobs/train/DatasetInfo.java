package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What a training job needs to know of a tokenized dataset, from its dataset.json; {@code labels}
 * are a classification dataset's label names (empty: windows for language modeling).
 */
public record DatasetInfo(String directory, String encoding, int vocabSize, int tokenBytes, int eotId,
                          int maxLength, long trainWindows, long valWindows, List<String> labels) {

    public DatasetInfo {
        labels = List.copyOf(labels);
    }

    /** Whether the rows are labeled examples (tokenize --label-field) rather than windows. */
    public boolean classification() {
        return !labels.isEmpty();
    }

    public static DatasetInfo read(String directory, Configuration conf) throws IOException {
        Path manifest = new Path(directory, DatasetFormat.MANIFEST);
        FileSystem fs = manifest.getFileSystem(conf);
        if (!fs.exists(manifest)) {
            throw new UserInputException("--data " + directory + " is not a tokenized dataset (no dataset.json; "
                    + "an interrupted tokenize publishes none): make one with sparkgpt tokenize");
        }
        JsonNode json;
        try (InputStream in = fs.open(manifest)) {
            json = DatasetFormat.readManifest(in, directory);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--data: " + e.getMessage());
        }
        JsonNode train = json.get(DatasetFormat.TRAIN);
        JsonNode val = json.get(DatasetFormat.VAL);
        return new DatasetInfo(fs.makeQualified(new Path(directory)).toString(),
                json.get(DatasetFormat.ENCODING).asText(), json.get(DatasetFormat.VOCAB_SIZE).asInt(),
                json.get(DatasetFormat.TOKEN_BYTES).asInt(), json.get(DatasetFormat.EOT_ID).asInt(),
                json.get(DatasetFormat.MAX_LENGTH).asInt(), train.get(DatasetFormat.WINDOWS).asLong(),
                val.get(DatasetFormat.WINDOWS).asLong(), labels(json));
    }

    private static List<String> labels(JsonNode json) {
        if (!DatasetFormat.CLASSIFICATION.equals(json.path(DatasetFormat.TASK).asText())) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        json.get(DatasetFormat.LABELS).forEach(l -> out.add(l.asText()));
        return out;
    }

    /** Refuses a dataset whose ids or windows don't fit the model, naming both. */
    public void requireFits(GptConfig model) {
        if (vocabSize > model.vocabSize()) {
            throw new UserInputException(String.format("dataset %s has vocab_size %d (%s) but the model's vocab_size "
                    + "is %d: tokenize with an encoding the model covers, or use a model with vocab_size >= %d",
                    directory, vocabSize, encoding, model.vocabSize(), vocabSize));
        }
        if (maxLength > model.contextLength()) {
            throw new UserInputException(String.format("dataset %s has windows of max_length %d but the model's "
                    + "context_length is %d: re-tokenize with --max-length %d or use a longer context",
                    directory, maxLength, model.contextLength(), model.contextLength()));
        }
    }
}
