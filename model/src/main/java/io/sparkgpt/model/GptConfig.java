package io.sparkgpt.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The hyperparameters of the GPT of Raschka's "Build a Large Language Model (From Scratch)",
 * chapter 4, under the book's names (which are also the JSON keys), plus two choices the book
 * leaves fixed: whether the output head shares the token embedding ({@code tie_weights}) and
 * how positions are encoded ({@code position}).
 *
 * <p>Immutable and validated on construction, so a config that exists is one the network can
 * be built from.
 */
public record GptConfig(
        int vocabSize,
        int contextLength,
        int embDim,
        int nHeads,
        int nLayers,
        double dropRate,
        boolean qkvBias,
        boolean tieWeights,
        Position position) {

    /** The names of the presets shipped in {@code conf/presets} and in the jar. */
    public static final List<String> PRESETS =
            List.of("gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "tiny", "mini");

    /** How token positions are encoded before the first block. */
    public enum Position {
        /** A trained [context_length, emb_dim] table, as in GPT-2 and the book. */
        LEARNED,
        /** The fixed sin/cos table of "Attention Is All You Need"; it has no parameters. */
        SINUSOIDAL;

        /** The JSON spelling: "learned" or "sinusoidal". */
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses the JSON spelling, naming the valid ones on failure. */
        public static Position fromJson(String name) {
            for (Position p : values()) {
                if (p.jsonName().equals(name)) {
                    return p;
                }
            }
            throw new IllegalArgumentException(
                    "position '" + name + "' is not one of \"learned\", \"sinusoidal\"");
        }
    }

    /** Validates every field; messages name the offending values. */
    public GptConfig {
        requirePositive("vocab_size", vocabSize);
        requirePositive("context_length", contextLength);
        requirePositive("emb_dim", embDim);
        requirePositive("n_heads", nHeads);
        requirePositive("n_layers", nLayers);
        if (embDim % nHeads != 0) {
            throw new IllegalArgumentException(
                    "emb_dim " + embDim + " is not divisible by n_heads " + nHeads);
        }
        // NaN fails both comparisons' negation, so it is rejected too.
        if (!(dropRate >= 0.0 && dropRate < 1.0)) {
            throw new IllegalArgumentException("drop_rate " + dropRate + " is not in [0, 1)");
        }
        if (position == null) {
            throw new IllegalArgumentException("position must be \"learned\" or \"sinusoidal\", not null");
        }
    }

    /** The book's seven values with the defaults for the rest (untied head, learned positions). */
    public GptConfig(int vocabSize, int contextLength, int embDim, int nHeads, int nLayers,
                     double dropRate, boolean qkvBias) {
        this(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, false, Position.LEARNED);
    }

    private static void requirePositive(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " " + value + " must be at least 1");
        }
    }

    /** Size of one attention head: emb_dim / n_heads. */
    public int headDim() {
        return embDim / nHeads;
    }

    public GptConfig withTieWeights(boolean tie) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tie, position);
    }

    public GptConfig withPosition(Position p) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tieWeights, p);
    }

    public GptConfig withDropRate(double rate) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, rate, qkvBias, tieWeights, position);
    }

    public GptConfig withContextLength(int length) {
        return new GptConfig(vocabSize, length, embDim, nHeads, nLayers, dropRate, qkvBias, tieWeights, position);
    }

    public GptConfig withQkvBias(boolean bias) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, bias, tieWeights, position);
    }

    /**
     * Trainable parameters by the book's count (listing 4.7): embeddings, per block the Q/K/V
     * projections (+bias if qkv_bias), the output projection with bias, the two feed-forward
     * layers with biases and two LayerNorms (scale+shift), then the final LayerNorm and the
     * bias-free head, which a tied model does not count twice.
     */
    public long parameterCount() {
        long e = embDim;
        long tokenEmbedding = (long) vocabSize * e;
        long positionEmbedding = position == Position.LEARNED ? (long) contextLength * e : 0;
        long attention = 3 * e * e + (qkvBias ? 3 * e : 0) + e * e + e;
        long feedForward = e * 4 * e + 4 * e + 4 * e * e + e;
        long norms = 2 * (2 * e);
        long perBlock = attention + feedForward + norms;
        long finalNorm = 2 * e;
        long head = tieWeights ? 0 : (long) vocabSize * e;
        return tokenEmbedding + positionEmbedding + nLayers * perBlock + finalNorm + head;
    }

    /** Size of the parameters in fp32 as the book prints it: params * 4 / 1024 / 1024 (MB). */
    public double fp32Megabytes() {
        return parameterCount() * 4.0 / 1024.0 / 1024.0;
    }

    /** The config as pretty-printed JSON with the book's keys. */
    public String toJson() {
        return GptConfigJson.write(this);
    }

    /** Parses JSON with the book's keys; unknown keys, missing keys and wrong types are errors. */
    public static GptConfig fromJson(String json) {
        return GptConfigJson.read(json);
    }

    public static GptConfig fromJson(Path file) {
        try {
            return fromJson(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read GPT config " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Loads a shipped preset (classpath resource presets/NAME.json). */
    public static GptConfig preset(String name) {
        if (!PRESETS.contains(name)) {
            throw new IllegalArgumentException(
                    "unknown preset '" + name + "'; valid presets: " + String.join(", ", PRESETS));
        }
        String resource = "/presets/" + name + ".json";
        try (InputStream in = GptConfig.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("preset resource " + resource + " is missing from the classpath");
            }
            return fromJson(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preset " + resource, e);
        }
    }
}
