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
 * how positions are encoded ({@code position}). With {@code llama} set (JSON
 * {@code "architecture": "llama"}), the decoder is LLaMA's instead: RMSNorm, rotary positions,
 * a SwiGLU feed-forward, grouped-query attention and no biases. With {@code num_classes} set, the
 * network is a sequence classifier (the book's chapter 6): its head is a {@code num_classes} x
 * {@code emb_dim} matrix ({@code score}, Hugging Face's name) read at each sequence's last real token.
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
        Position position,
        Llama llama,
        int numClasses) {

    /** The names of the presets shipped in {@code conf/presets} and in the jar. */
    public static final List<String> PRESETS = List.of("gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "tiny",
            "mini", "llama-tiny", "llama-mini", "llama-smollm-135m");

    /** The decoder's family: the book's GPT-2, or LLaMA's. */
    public enum Architecture {
        GPT2, LLAMA;

        /** The JSON spelling: "gpt2" or "llama". */
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Architecture fromJson(String name) {
            for (Architecture a : values()) {
                if (a.jsonName().equals(name)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("architecture '" + name + "' is not one of \"gpt2\", \"llama\"");
        }
    }

    /**
     * LLaMA's own hyperparameters, under Hugging Face's LlamaConfig names: key/value heads (grouped
     * -query attention when fewer than n_heads), the SwiGLU's hidden width, RMSNorm's epsilon and
     * the rotary embeddings' base.
     */
    public record Llama(int nKvHeads, int intermediateSize, double rmsNormEps, double ropeTheta) {
        public static final double DEFAULT_RMS_NORM_EPS = 1e-5;
        public static final double DEFAULT_ROPE_THETA = 10000;

        public Llama {
            requirePositive("n_kv_heads", nKvHeads);
            requirePositive("intermediate_size", intermediateSize);
            if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
                throw new IllegalArgumentException("rms_norm_eps " + rmsNormEps + " and rope_theta " + ropeTheta
                        + " must be positive");
            }
        }
    }

    /** How token positions are encoded before the first block. */
    public enum Position {
        /** A trained [context_length, emb_dim] table, as in GPT-2 and the book. */
        LEARNED,
        /** The fixed sin/cos table of "Attention Is All You Need"; it has no parameters. */
        SINUSOIDAL,
        /** Rotary embeddings on queries and keys (RoPE, LLaMA's); no parameters. */
        ROTARY;

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
                    "position '" + name + "' is not one of \"learned\", \"sinusoidal\", \"rotary\"");
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
        if ((llama != null) != (position == Position.ROTARY)) {
            throw new IllegalArgumentException(llama != null ? "the llama architecture encodes positions as \"rotary\", "
                    + "not \"" + position.jsonName() + "\"" : "position \"rotary\" is the llama architecture's: set "
                    + "\"architecture\": \"llama\"");
        }
        if (numClasses < 0 || numClasses == 1) {
            throw new IllegalArgumentException("num_classes " + numClasses + " must be at least 2 (0: a language model)");
        }
        if (numClasses > 0 && tieWeights) {
            throw new IllegalArgumentException("a classifier's head (num_classes " + numClasses + ") is not the token "
                    + "embedding: tie_weights must be false");
        }
        if (llama != null) {
            if (qkvBias) {
                throw new IllegalArgumentException("the llama architecture has no biases: qkv_bias must be false");
            }
            if (nHeads % llama.nKvHeads() != 0) {
                throw new IllegalArgumentException("n_kv_heads " + llama.nKvHeads() + " does not divide n_heads "
                        + nHeads);
            }
            if (embDim / nHeads % 2 != 0) {
                throw new IllegalArgumentException("head size emb_dim / n_heads = " + embDim / nHeads
                        + " must be even for rotary embeddings");
            }
        }
    }

    /** A GPT-2 config (no LLaMA part). */
    public GptConfig(int vocabSize, int contextLength, int embDim, int nHeads, int nLayers, double dropRate,
                     boolean qkvBias, boolean tieWeights, Position position) {
        this(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tieWeights, position, null);
    }

    /** A language model (no classification head). */
    public GptConfig(int vocabSize, int contextLength, int embDim, int nHeads, int nLayers, double dropRate,
                     boolean qkvBias, boolean tieWeights, Position position, Llama llama) {
        this(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tieWeights, position, llama, 0);
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

    public Architecture architecture() {
        return llama == null ? Architecture.GPT2 : Architecture.LLAMA;
    }

    /** Key/value heads: n_kv_heads for LLaMA, n_heads for GPT-2. */
    public int kvHeads() {
        return llama == null ? nHeads : llama.nKvHeads();
    }

    /** Width of the fused q|k|v projection: C + 2 * kv_heads * head size. */
    public int qkvWidth() {
        return embDim + 2 * kvHeads() * headDim();
    }

    /** Width of the feed-forward's hidden layer: 4C (GPT-2) or intermediate_size (LLaMA). */
    public int hiddenDim() {
        return llama == null ? 4 * embDim : llama.intermediateSize();
    }

    /** Whether this is a sequence classifier (num_classes set) rather than a language model. */
    public boolean isClassifier() {
        return numClasses > 0;
    }

    /** Rows of the output head: num_classes for a classifier, vocab_size for a language model. */
    public int headRows() {
        return isClassifier() ? numClasses : vocabSize;
    }

    /** This decoder with a num_classes head of its own in place of the language-model head. */
    public GptConfig asClassifier(int classes) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, false, position,
                llama, classes);
    }

    public GptConfig withTieWeights(boolean tie) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate,
                qkvBias, tie, position, llama, numClasses);
    }

    public GptConfig withPosition(Position p) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate,
                qkvBias, tieWeights, p, llama, numClasses);
    }

    public GptConfig withDropRate(double rate) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, rate,
                qkvBias, tieWeights, position, llama, numClasses);
    }

    public GptConfig withContextLength(int length) {
        return new GptConfig(vocabSize, length, embDim, nHeads, nLayers, dropRate,
                qkvBias, tieWeights, position, llama, numClasses);
    }

    public GptConfig withQkvBias(boolean bias) {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate,
                bias, tieWeights, position, llama, numClasses);
    }

    /**
     * Trainable parameters by the book's count (listing 4.7): embeddings, per block the Q/K/V
     * projections (+bias if qkv_bias), the output projection with bias, the two feed-forward
     * layers with biases and two LayerNorms (scale+shift), then the final LayerNorm and the
     * bias-free head, which a tied model does not count twice (a classifier's: num_classes x emb_dim).
     */
    public long parameterCount() {
        if (llama != null) {
            return llamaParameterCount();
        }
        long e = embDim;
        long tokenEmbedding = (long) vocabSize * e;
        long positionEmbedding = position == Position.LEARNED ? (long) contextLength * e : 0;
        long attention = 3 * e * e + (qkvBias ? 3 * e : 0) + e * e + e;
        long feedForward = e * 4 * e + 4 * e + 4 * e * e + e;
        long norms = 2 * (2 * e);
        long perBlock = attention + feedForward + norms;
        long finalNorm = 2 * e;
        long head = tieWeights ? 0 : (long) headRows() * e;
        return tokenEmbedding + positionEmbedding + nLayers * perBlock + finalNorm + head;
    }

    /**
     * LLaMA's count (Hugging Face's LlamaForCausalLM): the token embedding, per block RMSNorm
     * weights before attention and MLP, q and o [C, C], k and v [C, kv], gate and up [C, I] and
     * down [I, C], the final RMSNorm, and the head unless tied.
     */
    private long llamaParameterCount() {
        long e = embDim;
        long kv = (long) kvHeads() * headDim();
        long i = llama.intermediateSize();
        long perBlock = 2 * e + 2 * e * e + 2 * e * kv + 3 * e * i;
        long tokenEmbedding = (long) vocabSize * e;
        return tokenEmbedding + nLayers * perBlock + e + (tieWeights ? 0 : (long) headRows() * e);
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
