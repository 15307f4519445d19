package io.sparkgpt.tokenization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one owner of the tokenized dataset's format, read and written through here only. A dataset
 * is a directory: DIR/dataset.json (written last: without it, no dataset), and the windows under
 * DIR/train and DIR/val as Parquet rows (tokens, shard, offset), in their order by (shard,
 * offset). {@code tokens} is one window of max_length + 1 ids, as little-endian unsigned
 * integers of {@code token_bytes} each (2 below 65,536 ids, as nanoGPT's uint16 .bin; else 4):
 * {@code numpy.frombuffer(tokens, "<u2")} reads it. A window gives max_length examples: the
 * inputs are its ids 0..T-1, the targets the same shifted by one.
 *
 * <p>A classification dataset ({@code "task": "classification"} in dataset.json, with the label
 * names under {@code labels}) holds one example a document instead: rows (tokens, length, label,
 * shard, offset), {@code tokens} the document's first max_length ids padded with eot_id to
 * max_length, {@code length} its real ids (1..max_length), {@code label} an index into
 * {@code labels}; shard is the label and offset a hash of the text (a fixed order: training
 * shuffles). Its targets score only the last real token, with the label.
 */
public final class DatasetFormat {
    /** Version 1 stored tokens as array&lt;int&gt;; 2 stores them as bytes of token_bytes each. */
    public static final int VERSION = 2;
    public static final String MANIFEST = "dataset.json";
    public static final String TOKENS = "tokens";
    public static final String SHARD = "shard";
    public static final String OFFSET = "offset";
    public static final String TRAIN = "train";
    public static final String VAL = "val";
    public static final List<String> SPLITS = List.of(TRAIN, VAL);
    /** dataset.json's keys that readers use (the splits' statistics are under {@link #TRAIN} and {@link #VAL}). */
    public static final String ENCODING = "encoding";
    public static final String VOCAB_SIZE = "vocab_size";
    public static final String TOKEN_BYTES = "token_bytes";
    public static final String EOT_ID = "eot_id";
    public static final String MAX_LENGTH = "max_length";
    public static final String WINDOWS = "windows";
    public static final String TASK = "task";
    public static final String CLASSIFICATION = "classification";
    public static final String LABELS = "labels";
    public static final String NUM_CLASSES = "num_classes";
    public static final String LENGTH = "length";
    public static final String LABEL = "label";
    /** The target of a position the loss skips: the model's CrossEntropyHead.IGNORE (PyTorch's ignore_index). */
    public static final int UNSCORED = -1;
    private static final String VERSION_KEY = "format_version";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DatasetFormat() {
    }

    /** The bytes of one id for a vocabulary of {@code vocabSize} ids. */
    public static int tokenBytes(int vocabSize) {
        return vocabSize <= 1 << 16 ? 2 : 4;
    }

    /** A window's ids as the {@code tokens} column stores them. */
    public static byte[] encode(int[] ids, int tokenBytes) {
        byte[] out = new byte[ids.length * tokenBytes];
        for (int i = 0, b = 0; i < ids.length; i++) {
            int id = ids[i];
            out[b++] = (byte) id;
            out[b++] = (byte) (id >>> 8);
            if (tokenBytes == 4) {
                out[b++] = (byte) (id >>> 16);
                out[b++] = (byte) (id >>> 24);
            }
        }
        return out;
    }

    /** The ids of a {@code tokens} value. */
    public static int[] decode(byte[] tokens, int tokenBytes) {
        int[] ids = new int[tokens.length / tokenBytes];
        for (int i = 0, b = 0; i < ids.length; i++) {
            int id = (tokens[b++] & 0xff) | (tokens[b++] & 0xff) << 8;
            if (tokenBytes == 4) {
                id |= (tokens[b++] & 0xff) << 16 | (tokens[b++] & 0xff) << 24;
            }
            ids[i] = id;
        }
        return ids;
    }

    /**
     * One example of {@code inputs.length} predictions from the ids at {@code start}: inputs
     * ids[start, start + T), targets ids[start + 1, start + T + 1), the next token of each input.
     */
    public static void example(int[] ids, int start, float[] inputs, float[] targets) {
        for (int j = 0; j < inputs.length; j++) {
            inputs[j] = ids[start + j];
            targets[j] = ids[start + j + 1];
        }
    }

    /**
     * One classification example: inputs the T ids (padding included: causal attention never lets
     * the last real token see it), targets {@link #UNSCORED} but at the last real token, the label.
     */
    public static void classificationExample(int[] ids, int length, int label, float[] inputs, float[] targets) {
        if (length < 1 || length > inputs.length) {
            throw new IllegalArgumentException("example length " + length + " is not in [1, " + inputs.length + "]");
        }
        for (int j = 0; j < inputs.length; j++) {
            inputs[j] = ids[j];
            targets[j] = UNSCORED;
        }
        targets[length - 1] = label;
    }

    /** A document's first {@code maxLength} ids, padded with {@code eotId} to {@code maxLength}. */
    public static int[] truncatedAndPadded(int[] ids, int maxLength, int eotId) {
        int[] out = java.util.Arrays.copyOf(ids, maxLength);
        java.util.Arrays.fill(out, Math.min(ids.length, maxLength), maxLength, eotId);
        return out;
    }

    /** dataset.json's content: {@code format_version} first, then {@code fields} in their order. */
    public static Map<String, Object> manifest(Map<String, Object> fields) {
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put(VERSION_KEY, VERSION);
        manifest.putAll(fields);
        return manifest;
    }

    /** dataset.json's bytes, as {@link #manifest} lays it out. */
    public static byte[] manifestBytes(Map<String, Object> fields) throws IOException {
        return JSON.writeValueAsBytes(manifest(fields));
    }

    /** Reads dataset.json of {@code dataset}, refusing another format version, naming both. */
    public static JsonNode readManifest(InputStream in, String dataset) throws IOException {
        JsonNode manifest = JSON.readTree(in);
        int version = manifest.path(VERSION_KEY).asInt(-1);
        if (version != VERSION) {
            throw new IllegalArgumentException(String.format("dataset %s has format_version %s but this sparkgpt "
                    + "reads format_version %d: tokenize its corpus again with this version's sparkgpt tokenize",
                    dataset, version < 0 ? "(none)" : version, VERSION));
        }
        return manifest;
    }
}
