package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.tokenization.Tokenizer;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the tokenize job needs, validated before Spark starts. The field names are the
 * command line's options; {@link #toMap()} is the effective config written into dataset.json.
 */
public record TokenizeConfig(
        List<String> inputs,
        String output,
        InputFormat format,
        String textField,
        String encoding,
        int maxLength,
        int stride,
        double valFraction,
        long seed,
        boolean overwrite,
        boolean skipBadRecords,
        double shardSizeMb,
        double maxDocumentMb,
        String labelField) implements Serializable {

    public TokenizeConfig {
        inputs = List.copyOf(inputs == null ? List.of() : inputs);
        require(!inputs.isEmpty(), "no --input given: name at least one file, directory or glob");
        require(output != null && !output.isBlank(), "no --output given: name the dataset directory to write");
        require(format != null, "no --format given");
        require(textField != null && !textField.isBlank(), "--text-field must name a field or column");
        try {
            Tokenizer.kind(encoding);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--encoding: " + e.getMessage());
        }
        require(maxLength >= 1, "--max-length " + maxLength + " must be at least 1");
        require(stride >= 1, "--stride " + stride + " must be at least 1");
        require(valFraction >= 0 && valFraction < 1,
                "--val-fraction " + valFraction + " must be at least 0 and below 1 (0 keeps everything in train)");
        require(shardSizeMb > 0, "--shard-size-mb " + shardSizeMb + " must be positive");
        require(maxDocumentMb > 0, "--max-document-mb " + maxDocumentMb + " must be positive");
        require(labelField == null || !labelField.isBlank(), "--label-field must name a field or column");
        require(labelField == null || format == InputFormat.JSONL || format == InputFormat.PARQUET, "--label-field "
                + "needs --format jsonl or parquet (a record's text and label), not " + format.id());
    }

    /** A language-model config, without labels. */
    public TokenizeConfig(List<String> inputs, String output, InputFormat format, String textField, String encoding,
                          int maxLength, int stride, double valFraction, long seed, boolean overwrite,
                          boolean skipBadRecords, double shardSizeMb, double maxDocumentMb) {
        this(inputs, output, format, textField, encoding, maxLength, stride, valFraction, seed, overwrite,
                skipBadRecords, shardSizeMb, maxDocumentMb, null);
    }

    /** Whether this makes a classification dataset (one labeled example a record) rather than windows. */
    public boolean labeled() {
        return labelField != null;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new UserInputException(message);
        }
    }

    /** A config with the command line's defaults for everything but inputs and output. */
    public static TokenizeConfig defaults(List<String> inputs, String output) {
        return new TokenizeConfig(inputs, output, InputFormat.TEXT, "text", Tokenizer.GPT2, 256, 256,
                0.1, 0, false, false, 64, 64);
    }

    public long shardSizeBytes() {
        return Math.max(1, (long) (shardSizeMb * 1024 * 1024));
    }

    public long maxDocumentBytes() {
        return Math.max(1, (long) (maxDocumentMb * 1024 * 1024));
    }

    public TokenizeConfig withFormat(InputFormat f) {
        return new TokenizeConfig(inputs, output, f, textField, encoding, maxLength, stride, valFraction, seed,
                overwrite, skipBadRecords, shardSizeMb, maxDocumentMb, labelField);
    }

    public TokenizeConfig withWindows(int newMaxLength, int newStride) {
        return new TokenizeConfig(inputs, output, format, textField, encoding, newMaxLength, newStride, valFraction,
                seed, overwrite, skipBadRecords, shardSizeMb, maxDocumentMb, labelField);
    }

    public TokenizeConfig withOutput(String newOutput, boolean newOverwrite) {
        return new TokenizeConfig(inputs, newOutput, format, textField, encoding, maxLength, stride, valFraction,
                seed, newOverwrite, skipBadRecords, shardSizeMb, maxDocumentMb, labelField);
    }

    public TokenizeConfig withValFraction(double fraction) {
        return new TokenizeConfig(inputs, output, format, textField, encoding, maxLength, stride, fraction, seed,
                overwrite, skipBadRecords, shardSizeMb, maxDocumentMb, labelField);
    }

    public TokenizeConfig withShardSizeMb(double mb) {
        return new TokenizeConfig(inputs, output, format, textField, encoding, maxLength, stride, valFraction, seed,
                overwrite, skipBadRecords, mb, maxDocumentMb, labelField);
    }

    public TokenizeConfig withSkipBadRecords(boolean skip) {
        return new TokenizeConfig(inputs, output, format, textField, encoding, maxLength, stride, valFraction, seed,
                overwrite, skip, shardSizeMb, maxDocumentMb, labelField);
    }

    /** The effective config, with the command line's option names. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input", inputs);
        m.put("output", output);
        m.put("format", format.id());
        m.put("text_field", textField);
        m.put("encoding", encoding);
        m.put("max_length", maxLength);
        m.put("stride", stride);
        m.put("val_fraction", valFraction);
        m.put("seed", seed);
        m.put("skip_bad_records", skipBadRecords);
        m.put("shard_size_mb", shardSizeMb);
        m.put("max_document_mb", maxDocumentMb);
        if (labelField != null) {
            m.put("label_field", labelField);
        }
        return m;
    }
}
