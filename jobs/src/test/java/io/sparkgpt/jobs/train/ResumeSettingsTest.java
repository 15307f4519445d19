package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.ConsoleCapture;
import io.sparkgpt.jobs.SparkGpt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Extending a run is {@code train --max-steps 2N --resume}: every setting not given, derived
 * defaults included, is the run's recorded one, so the schedule continues as it was.
 */
class ResumeSettingsTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void tokenize() {
        System.setProperty("spark.master", "local[2]");
        System.setProperty("spark.ui.enabled", "false");
        data = tmp.resolve("dataset");
        assertEquals(0, SparkGpt.execute("tokenize", "--input", Path.of("..", "data", "the-verdict.txt").toString(),
                "--output", data.toString(), "--max-length", "32", "--stride", "32"));
    }

    @AfterAll
    static void restore() {
        System.clearProperty("spark.master");
        System.clearProperty("spark.ui.enabled");
    }

    private static String[] train(Path checkpoints, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--checkpoint-dir", checkpoints.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static String[] firstRun(Path checkpoints, String... more) {
        List<String> args = new ArrayList<>(List.of(train(checkpoints, "--data", data.toString(), "--preset", "tiny",
                "--batch-size-per-worker", "2", "--averaging-frequency", "2", "--workers", "2", "--eval-every", "4",
                "--lr", "2e-3")));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static List<JsonNode> metrics(Path checkpoints) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(checkpoints.resolve("metrics.jsonl"))) {
            out.add(new ObjectMapper().readTree(line));
        }
        return out;
    }

    @Test
    void extendingARunWithMaxStepsAndResumeContinuesItsSchedule() throws IOException {
        Path split = tmp.resolve("split");
        assertEquals(0, SparkGpt.execute(firstRun(split, "--max-steps", "8")));
        JsonNode recorded = new ObjectMapper().readTree(split.resolve("train.json").toFile());
        assertEquals(8, recorded.get("lr_decay_steps").asLong(), "the default decay horizon: the run's 8 steps");
        assertEquals(0, SparkGpt.execute(train(split, "--max-steps", "16", "--resume")));
        Path whole = tmp.resolve("whole");
        assertEquals(0, SparkGpt.execute(firstRun(whole, "--max-steps", "16", "--warmup-steps",
                recorded.get("warmup_steps").asText(), "--lr-decay-steps", "8")));

        List<JsonNode> resumed = metrics(split);
        List<JsonNode> uninterrupted = metrics(whole);
        assertEquals(5, uninterrupted.size(), "evaluations at 0, 4, 8, 12, 16");
        assertEquals(uninterrupted.size(), resumed.size());
        for (int i = 0; i < resumed.size(); i++) {
            assertEquals(uninterrupted.get(i).get("step").asLong(), resumed.get(i).get("step").asLong());
            assertEquals(uninterrupted.get(i).get("lr").asDouble(), resumed.get(i).get("lr").asDouble(), 1e-12,
                    "the schedule at evaluation " + i);
            for (String key : List.of("train_loss", "val_loss")) {
                assertEquals(uninterrupted.get(i).get(key).asDouble(), resumed.get(i).get(key).asDouble(), 1e-6,
                        key + " at step " + resumed.get(i).get("step"));
            }
        }
        JsonNode now = new ObjectMapper().readTree(split.resolve("train.json").toFile());
        assertEquals(16, now.get("total_steps").asLong(), "train.json is the extended run's effective config");
        assertEquals(8, now.get("lr_decay_steps").asLong());
    }

    @Test
    void aConflictingSettingOnResumeIsRefusedNamingBothValues() throws IOException {
        Path run = tmp.resolve("conflict");
        assertEquals(0, SparkGpt.execute(firstRun(run, "--max-steps", "4")));
        try (ConsoleCapture console = new ConsoleCapture()) {
            assertEquals(2, SparkGpt.execute(train(run, "--max-steps", "8", "--resume", "--lr", "1e-3")));
            String err = console.err();
            assertTrue(err.contains("--resume with lr 0.001, but the run was started with 0.002"), err);
        }
        assertEquals(4, metrics(run).get(metrics(run).size() - 1).get("step").asLong(), "nothing trained");
    }
}
