package io.sparkgpt.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptConfigTest {

    @Test
    void gpt2SmallHasTheBooksParameterCountsAndSize() {
        GptConfig small = GptConfig.preset("gpt2-small");
        assertEquals(163_009_536L, small.parameterCount(), "untied gpt2-small (book listing 4.7)");
        assertEquals(124_412_160L, small.withTieWeights(true).parameterCount(), "tied gpt2-small");
        assertEquals("621.83", String.format("%.2f", small.fp32Megabytes()), "fp32 MB as the book prints it");
    }

    /** Expected values computed by hand from the book's per-layer formula (see GptConfig.parameterCount). */
    @ParameterizedTest
    @CsvSource({
            "gpt2-small, 50257, 1024, 768, 12, 12, 163009536",
            "gpt2-medium, 50257, 1024, 1024, 16, 24, 406212608",
            "gpt2-large, 50257, 1024, 1280, 20, 36, 838220800",
            "gpt2-xl, 50257, 1024, 1600, 25, 48, 1637792000",
            "tiny, 50257, 64, 64, 4, 2, 6536704",
            "mini, 50257, 128, 256, 4, 4, 28920832",
    })
    void presetsMatchTheIssueAndTheBooksFormula(String name, int vocab, int ctx, int emb, int heads, int layers,
                                                long untied) {
        GptConfig c = GptConfig.preset(name);
        assertEquals(new GptConfig(vocab, ctx, emb, heads, layers, 0.1, false), c, name);
        assertEquals(untied, c.parameterCount(), name + " untied");
        assertEquals(untied - (long) vocab * emb, c.withTieWeights(true).parameterCount(), name + " tied");
        assertEquals(untied - (long) ctx * emb, c.withPosition(GptConfig.Position.SINUSOIDAL).parameterCount(),
                name + " sinusoidal positions have no parameters");
    }

    @Test
    void presetFilesInConfEqualTheJarResources() throws Exception {
        Path dir = Path.of(System.getProperty("user.dir")).resolve("../conf/presets").normalize();
        for (String name : GptConfig.PRESETS) {
            Path file = dir.resolve(name + ".json");
            assertTrue(Files.exists(file), "missing " + file);
            assertEquals(GptConfig.preset(name), GptConfig.fromJson(file), name);
        }
    }

    @Test
    void unknownPresetListsTheValidNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GptConfig.preset("gpt3"));
        assertEquals("unknown preset 'gpt3'; valid presets: gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tiny, mini, "
                + "llama-tiny, llama-mini, llama-smollm-135m", e.getMessage());
    }

    @Test
    void jsonRoundTripKeepsEveryField() {
        GptConfig c = new GptConfig(11, 4, 8, 2, 1, 0.25, true, true, GptConfig.Position.SINUSOIDAL);
        String json = c.toJson();
        assertTrue(json.contains("\"emb_dim\" : 8") && json.contains("\"position\" : \"sinusoidal\""), json);
        assertEquals(c, GptConfig.fromJson(json));
    }

    @Test
    void optionalKeysDefaultToUntiedLearned() {
        GptConfig c = GptConfig.fromJson("{\"vocab_size\":5,\"context_length\":3,\"emb_dim\":4,\"n_heads\":2,"
                + "\"n_layers\":1,\"drop_rate\":0.0,\"qkv_bias\":false}");
        assertEquals(false, c.tieWeights());
        assertEquals(GptConfig.Position.LEARNED, c.position());
    }

    @Test
    void unknownKeyIsAnErrorNamingTheKey() {
        String json = GptConfig.preset("tiny").toJson().replace("\"n_heads\"", "\"n_head\"");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(json));
        assertTrue(e.getMessage().startsWith("unknown key 'n_head' in GPT config"), e.getMessage());
    }

    @Test
    void missingAndMistypedKeysAreNamed() {
        String missing = "{\"vocab_size\":5,\"context_length\":3,\"n_heads\":2,\"n_layers\":1,\"drop_rate\":0,\"qkv_bias\":false}";
        assertEquals("missing key 'emb_dim' in GPT config",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(missing)).getMessage());
        String typed = GptConfig.preset("tiny").toJson().replace("\"emb_dim\" : 64", "\"emb_dim\" : \"64\"");
        assertEquals("emb_dim must be an integer, not \"64\"",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(typed)).getMessage());
        String pos = GptConfig.preset("tiny").toJson().replace("\"learned\"", "\"rope\"");
        assertEquals("position 'rope' is not one of \"learned\", \"sinusoidal\", \"rotary\"",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(pos)).getMessage());
    }

    /** LLaMA's count by hand: per block 2C (norms) + 2C^2 (q, o) + 2C KV (k, v) + 3 C I (gate, up, down). */
    @ParameterizedTest
    @CsvSource({
            "llama-tiny, 64, 2, 2, 176, false, 6525376",
            "llama-mini, 256, 2, 4, 688, false, 28633856",
            "llama-smollm-135m, 576, 3, 30, 1536, true, 135151488",
    })
    void llamaPresetsCountLikeHuggingFacesLlama(String name, int emb, int kvHeads, int layers, int intermediate,
                                                boolean tied, long count) {
        GptConfig c = GptConfig.preset(name);
        assertEquals(GptConfig.Architecture.LLAMA, c.architecture());
        assertEquals(GptConfig.Position.ROTARY, c.position());
        assertEquals(new GptConfig.Llama(kvHeads, intermediate, 1e-5, 10000), c.llama(), name);
        assertEquals(emb, c.embDim());
        assertEquals(layers, c.nLayers());
        assertEquals(tied, c.tieWeights());
        assertEquals(count, c.parameterCount(), name);
        assertEquals(count, GptParams.specs(c).stream().mapToLong(GptParams.Spec::length).sum(), name + " specs");
        // SmolLM-135M's own vocabulary (49,152) gives its published 134.5M.
        if (name.equals("llama-smollm-135m")) {
            assertEquals(134_515_008L, new GptConfig(49152, 2048, 576, 9, 30, 0.0, false, true,
                    GptConfig.Position.ROTARY, c.llama()).parameterCount());
        }
    }

    @Test
    void llamaJsonRoundTripsAndItsKeysAreItsOwn() {
        GptConfig c = GptConfig.preset("llama-tiny");
        String json = c.toJson();
        assertTrue(json.contains("\"architecture\" : \"llama\"") && json.contains("\"n_kv_heads\" : 2"), json);
        assertEquals(c, GptConfig.fromJson(json));
        String gpt2 = GptConfig.preset("tiny").toJson().replace("\"qkv_bias\"", "\"n_kv_heads\" : 2, \"qkv_bias\"");
        assertEquals("n_kv_heads is a key of the llama architecture; set \"architecture\": \"llama\" or remove it",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(gpt2)).getMessage());
        String noWidth = json.replace("\"intermediate_size\" : 176,", "");
        assertEquals("missing key 'intermediate_size' in a llama config",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(noWidth)).getMessage());
        String groups = json.replace("\"n_kv_heads\" : 2", "\"n_kv_heads\" : 3");
        assertEquals("n_kv_heads 3 does not divide n_heads 4",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(groups)).getMessage());
        String biased = json.replace("\"qkv_bias\" : false", "\"qkv_bias\" : true");
        assertEquals("the llama architecture has no biases: qkv_bias must be false",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(biased)).getMessage());
        String rotaryGpt2 = GptConfig.preset("tiny").toJson().replace("\"learned\"", "\"rotary\"");
        assertEquals("position \"rotary\" is the llama architecture's: set \"architecture\": \"llama\"",
                assertThrows(IllegalArgumentException.class, () -> GptConfig.fromJson(rotaryGpt2)).getMessage());
    }

    @Test
    void validationMessagesNameTheValues() {
        assertEquals("emb_dim 100 is not divisible by n_heads 3", assertThrows(IllegalArgumentException.class,
                () -> new GptConfig(10, 4, 100, 3, 1, 0.0, false)).getMessage());
        assertEquals("drop_rate 1.0 is not in [0, 1)", assertThrows(IllegalArgumentException.class,
                () -> new GptConfig(10, 4, 8, 2, 1, 1.0, false)).getMessage());
        assertEquals("n_layers 0 must be at least 1", assertThrows(IllegalArgumentException.class,
                () -> new GptConfig(10, 4, 8, 2, 0, 0.0, false)).getMessage());
        assertEquals("vocab_size -1 must be at least 1", assertThrows(IllegalArgumentException.class,
                () -> new GptConfig(-1, 4, 8, 2, 1, 0.0, false)).getMessage());
    }

    @Test
    void aClassifiersNumClassesRoundTripsThroughJsonAndALanguageModelWritesNone() {
        GptConfig lm = GptConfig.preset("tiny");
        GptConfig classifier = lm.asClassifier(2);
        assertEquals(2, classifier.numClasses());
        assertEquals(false, classifier.tieWeights());
        assertEquals(classifier, GptConfig.fromJson(classifier.toJson()));
        assertTrue(classifier.toJson().contains("\"num_classes\" : 2"), classifier.toJson());
        assertTrue(!lm.toJson().contains("num_classes"), lm.toJson());
    }

    @Test
    void aClassifierRefusesOneClassAndATiedHead() {
        GptConfig lm = new GptConfig(10, 4, 8, 2, 1, 0.0, false);
        assertEquals("num_classes 1 must be at least 2 (0: a language model)", assertThrows(
                IllegalArgumentException.class, () -> lm.asClassifier(1)).getMessage());
        assertEquals("a classifier's head (num_classes 2) is not the token embedding: tie_weights must be false",
                assertThrows(IllegalArgumentException.class, () -> new GptConfig(10, 4, 8, 2, 1, 0.0, false, true,
                        GptConfig.Position.LEARNED, null, 2)).getMessage());
    }
}
