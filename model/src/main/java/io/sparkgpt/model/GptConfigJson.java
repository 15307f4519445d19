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
    /** Optional keys and their defaults: tie_weights false, position "learned". */
    static final List<String> OPTIONAL = List.of("tie_weights", "position");

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
        return new GptConfig(
                integer(root, "vocab_size"), integer(root, "context_length"), integer(root, "emb_dim"),
                integer(root, "n_heads"), integer(root, "n_layers"), number(root, "drop_rate"),
                bool(root, "qkv_bias", false), bool(root, "tie_weights", false),
                root.has("position") ? GptConfig.Position.fromJson(text(root, "position"))
                        : GptConfig.Position.LEARNED);
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
