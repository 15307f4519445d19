package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * dataset.json: what a tokenized dataset holds, written last into the dataset directory. A
 * directory without it is not a dataset.
 *
 * @param splitMethod "by_document" (whole documents hashed into a split) or "character_mark"
 *                    (a one-document corpus cut as the book cuts it)
 */
public record DatasetManifest(String encoding, int vocabSize, int eotId, int maxLength, int stride,
                              String splitMethod, DatasetStats stats, List<String> warnings,
                              Map<String, Object> config) {

    static DatasetManifest of(TokenizeConfig config, DatasetStats stats, boolean bookSplit) {
        Tokenizer tokenizer = Tokenizer.shared(config.encoding());
        List<String> warnings = new ArrayList<>();
        if (config.valFraction() > 0 && stats.val().windows() == 0) {
            warnings.add("the validation split has no window: raise --val-fraction, lower --max-length, "
                    + "or add documents");
        }
        return new DatasetManifest(tokenizer.name(), tokenizer.vocabSize(), tokenizer.eotId(), config.maxLength(),
                config.stride(), bookSplit ? "character_mark" : "by_document", stats, warnings, config.toMap());
    }

    /** The fields after {@code format_version}, which {@link DatasetFormat} writes. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(DatasetFormat.ENCODING, encoding);
        m.put(DatasetFormat.VOCAB_SIZE, vocabSize);
        m.put(DatasetFormat.TOKEN_BYTES, DatasetFormat.tokenBytes(vocabSize));
        m.put(DatasetFormat.EOT_ID, eotId);
        m.put(DatasetFormat.MAX_LENGTH, maxLength);
        m.put("stride", stride);
        m.put("split_method", splitMethod);
        m.put("documents", stats.documents());
        m.put(DatasetFormat.TRAIN, split(stats.train()));
        m.put(DatasetFormat.VAL, split(stats.val()));
        m.put("skipped", stats.skipped());
        m.put("skipped_examples", stats.skippedExamples().stream().map(e -> Map.of(
                "file", e.file(), "line", e.line(), "reason", e.reason())).toList());
        m.put("invalid_utf8_documents", stats.invalidUtf8Documents());
        m.put("warnings", warnings);
        m.put("config", config);
        return m;
    }

    private static Map<String, Object> split(DatasetStats.SplitStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents", s.documents());
        m.put("tokens", s.tokens());
        m.put(DatasetFormat.WINDOWS, s.windows());
        m.put("shards", s.shards());
        return m;
    }

    void write(FileSystem fs, Path directory) throws IOException {
        try (FSDataOutputStream out = fs.create(new Path(directory, DatasetFormat.MANIFEST), false)) {
            out.write(DatasetFormat.manifestBytes(toMap()));
        }
    }
}
