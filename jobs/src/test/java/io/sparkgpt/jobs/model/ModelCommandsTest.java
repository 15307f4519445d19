package io.sparkgpt.jobs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.ConsoleCapture;
import io.sparkgpt.jobs.SparkGpt;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.checkpoint.TrainingState;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** info, export, import and eval as a user runs them. */
class ModelCommandsTest {
    static final Path VERDICT = Path.of("..", "data", "the-verdict.txt");
    private ConsoleCapture console;
    @TempDir
    Path tmp;

    @BeforeEach
    void capture() {
        console = new ConsoleCapture();
    }

    @AfterEach
    void restore() {
        console.close();
    }

    private JsonNode runJson(String... args) throws Exception {
        console.reset();
        assertEquals(0, SparkGpt.execute(args), console.err());
        return new ObjectMapper().readTree(console.out());
    }

    private Path checkpoint(GptConfig config, String name) throws Exception {
        return checkpoint(config, name, 1);
    }

    /** A checkpoint of a fresh network whose parameters are multiplied by {@code scale}. */
    private Path checkpoint(GptConfig config, String name, double scale) throws Exception {
        ComputationGraph net = GptNetwork.build(config, 5);
        net.params().muli(scale);
        CheckpointStore store = new CheckpointStore(tmp.resolve(name).toString(), new Configuration());
        return Path.of(store.save(NetworkCheckpoints.capture(net, TrainingState.start(5))).toUri());
    }

    @Test
    void infoPrintsTheBooksParameterCountsAndSize() throws Exception {
        JsonNode small = runJson("info", "--preset", "gpt2-small", "--json");
        assertEquals(163_009_536L, small.get("parameters").asLong());
        assertEquals(621.83, small.get("fp32_mb").asDouble(), 1e-9);
        assertEquals(124_412_160L, runJson("info", "--preset", "gpt2-small", "--tie-weights", "--json")
                .get("parameters").asLong());
        assertEquals(2, SparkGpt.execute("info", "--preset", "gpt2-tiny"));
        assertTrue(console.err().contains("gpt2-tiny"), console.err());
    }

    @Test
    void generateIsDeterministicGreedyOrSeededAndKeepsThePrompt() throws Exception {
        Path ckpt = checkpoint(GptConfig.preset("tiny"), "gen", 6);
        String[] greedy = {"generate", "--checkpoint", ckpt.toString(), "--prompt", "Every effort moves you",
                "--max-new-tokens", "8", "--json"};
        JsonNode first = runJson(greedy);
        assertEquals(first, runJson(greedy), "greedy is deterministic");
        assertTrue(first.get("text").asText().startsWith("Every effort moves you"), first.toString());
        assertTrue(first.get("new_tokens").asInt() <= 8, first.toString());
        String[] sampled = {"generate", "--checkpoint", ckpt.toString(), "--prompt", "Every effort moves you",
                "--max-new-tokens", "8", "--temperature", "1.5", "--seed", "3", "--json"};
        assertEquals(runJson(sampled), runJson(sampled), "a seed reproduces");
        String[] topK1 = {"generate", "--checkpoint", ckpt.toString(), "--prompt", "Every effort moves you",
                "--max-new-tokens", "8", "--temperature", "1.5", "--top-k", "1", "--seed", "9", "--json"};
        assertEquals(first.get("completion"), runJson(topK1).get("completion"), "top-k 1 is greedy");
        assertEquals(2, SparkGpt.execute("generate", "--checkpoint", ckpt.toString(), "--prompt", "x",
                "--top-p", "0"));
        assertTrue(console.err().contains("topP 0.0 must be in (0, 1]"), console.err());
    }

    @Test
    void exportThenImportGivesBackExactlyTheSameWeights() throws Exception {
        GptConfig[] configs = {GptConfig.preset("tiny"), GptConfig.preset("tiny").withTieWeights(true).withQkvBias(true),
                GptConfig.preset("llama-tiny"), GptConfig.preset("llama-tiny").withTieWeights(true),
                GptConfig.preset("tiny").asClassifier(3), GptConfig.preset("llama-tiny").asClassifier(2)};
        for (int i = 0; i < configs.length; i++) {
            Path ckpt = checkpoint(configs[i], "run" + i);
            Path file = tmp.resolve("model" + i + ".safetensors");
            assertEquals(0, SparkGpt.execute("export", "--checkpoint", ckpt.toString(), "--output", file.toString()),
                    console.err());
            Path imported = tmp.resolve("imported" + i);
            assertEquals(0, SparkGpt.execute("import", "--input", file.toString(), "--output", imported.toString()),
                    console.err());
            CheckpointStore store = new CheckpointStore(imported.toString(), new Configuration());
            var back = store.latestValid(m -> { }).orElseThrow().checkpoint();
            var original = new CheckpointStore(tmp.resolve("run" + i).toString(), new Configuration())
                    .latestValid(m -> { }).orElseThrow().checkpoint();
            assertEquals(configs[i], GptConfig.fromJson(back.modelConfigJson()), "config " + i);
            assertArrayEquals(original.parameters(), back.parameters(), "weights of config " + i);
        }
    }

    /** GPT-2's file against the book's GPT in PyTorch, LLaMA's against LlamaForCausalLM's math on Hugging Face's names. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny", "llama-tiny"})
    void evalScoresEveryPredictionAndTheExportedFileGivesTheSameLossInPyTorch(String preset) throws Exception {
        Path untrained = checkpoint(GptConfig.preset(preset), "untrained");
        JsonNode uniform = runJson("eval", "--checkpoint", untrained.toString(), "--text", VERDICT.toString(), "--json");
        assertEquals(5145, uniform.get("tokens").asLong());
        assertEquals(5144, uniform.get("predictions").asLong(), "every token but the first is predicted");
        assertEquals(Math.log(50257), uniform.get("loss").asDouble(), 0.1, "an untrained model is near uniform");

        // Weights 6x GPT-2's init make logits large, so the loss depends on every part of the
        // forward pass and a PyTorch mismatch anywhere would show.
        Path ckpt = checkpoint(GptConfig.preset(preset), "run", 6);
        Path ids = tmp.resolve("ids.txt");
        JsonNode eval = runJson("eval", "--checkpoint", ckpt.toString(), "--text", VERDICT.toString(),
                "--tokens-out", ids.toString(), "--json");
        assertTrue(Math.abs(eval.get("loss").asDouble() - Math.log(50257)) > 1, "loss far from uniform: " + eval);

        Path file = tmp.resolve("model.safetensors");
        assertEquals(0, SparkGpt.execute("export", "--checkpoint", ckpt.toString(), "--output", file.toString()),
                    console.err());
        // Debian's python3, which has python3-torch (the PATH's may not).
        Process python = new ProcessBuilder("/usr/bin/python3",
                Path.of("..", "scripts", "torch_eval_safetensors.py").toString(),
                file.toString(), ids.toString()).redirectErrorStream(true).start();
        String printed = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(300, TimeUnit.SECONDS) && python.exitValue() == 0, "PyTorch ran: " + printed);
        JsonNode torch = new ObjectMapper().readTree(printed.lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(eval.get("predictions").asLong(), torch.get("predictions").asLong());
        assertEquals(torch.get("loss").asDouble(), eval.get("loss").asDouble(), 1e-4, "PyTorch vs eval loss");
    }
}
