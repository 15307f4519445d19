package io.sparkgpt.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.List;

/**
 * JSON form of {@link GptConfig}. Read through Jackson's tree model rather than data binding so
 * every mistake (unknown key, missing key, wrong type) gets a message naming the key; a typo
 * such as "n_head" must not silently fall back to a default.
 */
final class GptConfigJson {

    static final List<String> REQUIRED = List.of(
            "vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias");
    /**
     * Optional keys and their defaults: tie_weights false, position "learned" ("rotary" for llama),
     * architecture "gpt2"; LLaMA's n_kv_heads (n_heads), rms_norm_eps (1e-5) and rope_theta (10000);
     * num_classes (absent: a language model), written only for a classifier.
     */
    static final List<String> OPTIONAL = List.of("tie_weights", "position", "architecture", "n_kv_heads",
            "intermediate_size", "rms_norm_eps", "rope_theta", "num_classes");
    /** The keys only the llama architecture has; intermediate_size is required there. */
    static final List<String> LLAMA = List.of("n_kv_heads", "intermediate_size", "rms_norm_eps", "rope_theta");

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private GptConfigJson() {
    }

    static String write(GptConfig c) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("vocab_size", c.vocabSize());
        o.put("context_length", c.contextLength());
        o.put("emb_dim", c.embDim());
        o.put("n_heads", c.nHeads());
        o.put("n_layers", c.nLayers());
        o.put("drop_rate", c.dropRate());
        o.put("qkv_bias", c.qkvBias());
        o.put("tie_weights", c.tieWeights());
        o.put("position", c.position().jsonName());
        o.put("architecture", c.architecture().jsonName());
        if (c.llama() != null) {
            o.put("n_kv_heads", c.llama().nKvHeads());
            o.put("intermediate_size", c.llama().intermediateSize());
            o.put("rms_norm_eps", c.llama().rmsNormEps());
            o.put("rope_theta", c.llama().ropeTheta());
        }
        if (c.isClassifier()) {
            o.put("num_classes", c.numClasses());
        }
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write GPT config as JSON", e);
        }
    }

    static GptConfig read(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("GPT config is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("GPT config must be a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!REQUIRED.contains(key) && !OPTIONAL.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + key + "' in GPT config; valid keys: "
                        + String.join(", ", REQUIRED) + ", " + String.join(", ", OPTIONAL));
            }
        }
        for (String key : REQUIRED) {
            if (!root.has(key)) {
                throw new IllegalArgumentException("missing key '" + key + "' in GPT config");
            }
        }
        GptConfig.Llama llama = llama(root);
        GptConfig.Position dflt = llama == null ? GptConfig.Position.LEARNED : GptConfig.Position.ROTARY;
        return new GptConfig(
                integer(root, "vocab_size"), integer(root, "context_length"), integer(root, "emb_dim"),
                integer(root, "n_heads"), integer(root, "n_layers"), number(root, "drop_rate"),
                bool(root, "qkv_bias", false), bool(root, "tie_weights", false),
                root.has("position") ? GptConfig.Position.fromJson(text(root, "position")) : dflt, llama,
                root.has("num_classes") ? integer(root, "num_classes") : 0);
    }

    /** The LLaMA part, or null for a GPT-2 config (which may not have LLaMA's keys). */
    private static GptConfig.Llama llama(JsonNode root) {
        GptConfig.Architecture a = root.has("architecture")
                ? GptConfig.Architecture.fromJson(text(root, "architecture")) : GptConfig.Architecture.GPT2;
        if (a == GptConfig.Architecture.GPT2) {
            for (String key : LLAMA) {
                if (root.has(key)) {
                    throw new IllegalArgumentException(key + " is a key of the llama architecture; set "
                            + "\"architecture\": \"llama\" or remove it");
                }
            }
            return null;
        }
        if (!root.has("intermediate_size")) {
            throw new IllegalArgumentException("missing key 'intermediate_size' in a llama config");
        }
        return new GptConfig.Llama(root.has("n_kv_heads") ? integer(root, "n_kv_heads") : integer(root, "n_heads"),
                integer(root, "intermediate_size"),
                root.has("rms_norm_eps") ? number(root, "rms_norm_eps") : GptConfig.Llama.DEFAULT_RMS_NORM_EPS,
                root.has("rope_theta") ? number(root, "rope_theta") : GptConfig.Llama.DEFAULT_ROPE_THETA);
    }

    private static int integer(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException(key + " must be an integer, not " + n);
        }
        return n.intValue();
    }

    private static double number(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (!n.isNumber()) {
            throw new IllegalArgumentException(key + " must be a number, not " + n);
        }
        return n.doubleValue();
    }

    private static boolean bool(JsonNode root, String key, boolean dflt) {
        JsonNode n = root.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(key + " must be true or false, not " + n);
        }
        return n.booleanValue();
    }

    private static String text(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (!n.isTextual()) {
            throw new IllegalArgumentException(key + " must be a string, not " + n);
        }
        return n.textValue();
    }
}
