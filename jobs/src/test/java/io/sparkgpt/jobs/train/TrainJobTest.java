package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.model.GptConfig;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tokenize -> train on embedded Spark with two workers, on the book's corpus. */
class TrainJobTest {
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path dataset;
    @TempDir
    Path tmp;

    @BeforeAll
    static void tokenize() throws IOException {
        spark = LocalSpark.start();
        dataset = io.sparkgpt.jobs.VerdictBatches.dataset(spark, shared.resolve("dataset"));
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    /** Tiny runs: 2 workers x batch 4 x averaging frequency 2; the schedule decays over 24 steps. */
    static TrainConfig config(Path checkpoints, GptConfig model, long maxSteps, boolean resume) {
        return new TrainConfig(dataset.toString(), checkpoints.toString(), model, maxSteps, 0, 4, 2, 2, 0, 2,
                2e-3, 2e-4, 2, 24, 0.1, 1.0, 4, 2, 4, 2, "Every effort moves you", resume, 7, "gpt2", "params");
    }

    @Test
    void trainingOnTwoWorkersLowersTheLossAndWritesMetricsAndTheCurve() throws IOException {
        Path checkpoints = tmp.resolve("ckpt");
        TrainResult r = TrainJob.run(spark, config(checkpoints, GptConfig.preset("tiny"), 24, false));
        assertEquals(24, r.steps());
        assertEquals(24L / 2 * (2 * 4 * 2) * 32, r.tokensSeen(), "rounds x windows a round x 32 tokens");
        TrainResult.Evaluation first = r.evaluations().get(0);
        assertEquals(0, first.step(), "evaluated before training");
        assertEquals(Math.log(50257), first.valLoss(), 0.5, "an untrained model is near-uniform over the vocabulary");
        TrainResult.Evaluation last = r.last();
        assertTrue(last.trainLoss() < first.trainLoss() - 1.0, "train loss fell by > 1: " + r.evaluations());
        assertTrue(last.valLoss() < first.valLoss() - 0.5, "val loss fell by > 0.5: " + r.evaluations());
        List<String> lines = Files.readAllLines(checkpoints.resolve("metrics.jsonl"));
        assertEquals(r.evaluations().size(), lines.size(), "one metrics line an evaluation");
        for (int i = 0; i < lines.size(); i++) {
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(i));
            TrainResult.Evaluation e = r.evaluations().get(i);
            assertEquals(e.step(), json.get("step").asLong(), "metrics line " + i);
            assertEquals(e.tokensSeen(), json.get("tokens_seen").asLong(), "metrics line " + i);
            assertEquals(e.trainLoss(), json.get("train_loss").asDouble(), 0.0, "metrics line " + i);
            assertEquals(e.valLoss(), json.get("val_loss").asDouble(), 0.0, "metrics line " + i);
        }
        assertTrue(Files.size(checkpoints.resolve("loss.png")) > 1000, "the loss curve PNG");
        assertTrue(r.lastCheckpoint().endsWith("step-00000024"), r.lastCheckpoint());
        assertEquals(2, r.roundTimes().networksBuilt(), "each worker builds its network once, not every round");
        assertJsonReportsTheSynchronization(r);
    }

    /** The keys the benchmarks read: sync, state_bytes, timing (sync_s is the rest of a round). */
    private static void assertJsonReportsTheSynchronization(TrainResult r) {
        var json = new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(TrainCommand.toJson(r));
        assertEquals("params", json.get("sync").asText());
        assertEquals(r.stateBytes(), json.get("state_bytes").asLong());
        assertTrue(r.stateBytes() > 12L * 6_000_000, "tiny's 6.5 M parameters and Adam's two moments");
        for (String timing : List.of("timing", "timing_after_first_round")) {
            var t = json.get(timing);
            assertEquals(t.get("round_s").asDouble() - t.get("setup_s").asDouble() - t.get("train_s").asDouble(),
                    t.get("sync_s").asDouble(), 1e-9, timing);
            assertTrue(t.get("train_s").asDouble() > 0 && t.get("sync_s").asDouble() > 0, t.toString());
            // sync_s's measured parts: a worker's load and store of the state, then the averaging.
            double load = t.get("load_s").asDouble();
            double average = t.get("average_s").asDouble();
            assertTrue(load > 0 && average > 0 && load + average <= t.get("sync_s").asDouble(), t.toString());
        }
        assertTrue(json.get("driver_bytes_per_round").asLong() < 64 * 1024, "losses, not the state: " + json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "llama-tiny"})
    void resumeContinuesExactlyWhereAnUninterruptedRunWouldBe(String preset) throws IOException {
        // With dropout (tiny's 0.1, given to LLaMA too): masks follow the seed, the iteration and the worker.
        GptConfig model = GptConfig.preset(preset).withDropRate(0.1);
        TrainResult whole = TrainJob.run(spark, config(tmp.resolve("whole"), model, 16, false));
        TrainJob.run(spark, config(tmp.resolve("split"), model, 8, false));
        UserInputException notEmpty = assertThrows(UserInputException.class,
                () -> TrainJob.run(spark, config(tmp.resolve("split"), model, 16, false)));
        assertTrue(notEmpty.getMessage().contains("pass --resume"), notEmpty.getMessage());
        TrainResult resumed = TrainJob.run(spark, config(tmp.resolve("split"), model, 16, true));
        assertEquals(16, resumed.steps());
        List<Double> expected = whole.roundLosses().subList(4, 8);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), resumed.roundLosses().get(i), 1e-6, "round " + (5 + i) + " loss");
        }
    }

    /** As {@link #config}, with one worker (the driver trains the network itself) and the book's init. */
    static TrainConfig oneWorker(Path checkpoints, GptConfig model, long maxSteps, boolean resume) {
        return new TrainConfig(dataset.toString(), checkpoints.toString(), model, maxSteps, 0, 4, 2, 1, 0, 2, 2e-3, 2e-4, 2, 24,
                0.1, 1.0, 4, 2, 4, 2, "", resume, 7, "book", "params");
    }

    @Test
    void oneWorkerTrainsInTheDriverAndResumesExactly() throws IOException {
        GptConfig model = GptConfig.preset("tiny");
        TrainResult whole = TrainJob.run(spark, oneWorker(tmp.resolve("whole"), model, 8, false));
        TrainJob.run(spark, oneWorker(tmp.resolve("split"), model, 4, false));
        TrainResult resumed = TrainJob.run(spark, oneWorker(tmp.resolve("split"), model, 8, true));
        assertEquals(0, whole.roundTimes().networksBuilt(), "no worker network is built: the driver trains");
        assertTrue(Files.readString(tmp.resolve("whole").resolve("train.json")).contains("\"init\" : \"book\""),
                "train.json records the init");
        assertEquals(8L / 2 * (4 * 2) * 32, whole.tokensSeen(), "rounds x windows a round x 32 tokens");
        assertTrue(whole.last().trainLoss() < whole.evaluations().get(0).trainLoss() - 0.2, // measured: 0.39
                "train loss fell by > 0.2: " + whole.evaluations());
        List<Double> expected = whole.roundLosses().subList(2, 4);
        assertEquals(2, resumed.roundLosses().size(), "rounds after the resume");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), resumed.roundLosses().get(i), 1e-6, "round " + (3 + i) + " loss");
        }
    }

    @Test
    void aDivergingRunStopsNamingTheStepAndTheLastGoodCheckpoint() {
        TrainConfig c = config(tmp.resolve("nan"), GptConfig.preset("tiny"), 24, false);
        TrainConfig exploding = new TrainConfig(c.data(), c.checkpointDir(), c.model(), 24, 0, 4, 2, 2, 0, 2,
                1e30, 1e30, 0, 24, 0.0, 0.0, 4, 2, 4, 2, "", false, 7, "gpt2", "params"); // float32 overflows to inf, then NaN
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TrainJob.run(spark, exploding));
        assertTrue(e.getMessage().startsWith("training diverged: the loss is") && e.getMessage().contains("at step")
                && e.getMessage().contains("the last good checkpoint is"), e.getMessage());
    }

    @Test
    void aRoundLargerThanTheDatasetIsRefusedWithTheFix() {
        TrainConfig c = config(tmp.resolve("big"), GptConfig.preset("tiny"), 8, false);
        TrainConfig tooBig = new TrainConfig(c.data(), c.checkpointDir(), c.model(), 8, 0, 64, 2, 2, 0, 2,
                2e-3, 2e-4, 2, 24, 0.1, 1.0, 4, 2, 4, 2, "", false, 7, "gpt2", "params");
        UserInputException e = assertThrows(UserInputException.class, () -> TrainJob.run(spark, tooBig));
        assertTrue(e.getMessage().contains("fewer than one averaging round needs (workers x batch size x averaging "
                + "frequency = 256)") && e.getMessage().contains("lower --batch-size-per-worker"), e.getMessage());
    }

    @Test
    void resumeWithoutACheckpointFailsClearly() {
        UserInputException e = assertThrows(UserInputException.class,
                () -> TrainJob.run(spark, config(tmp.resolve("none"), GptConfig.preset("tiny"), 8, true)));
        assertTrue(e.getMessage().contains("--resume: no valid checkpoint in"), e.getMessage());
    }

    @Test
    void aDatasetThatDoesNotFitTheModelIsRefusedNamingBoth() {
        UserInputException e = assertThrows(UserInputException.class, () -> TrainJob.run(spark,
                config(tmp.resolve("c"), GptConfig.preset("tiny").withContextLength(16), 8, false)));
        assertTrue(e.getMessage().contains("max_length 32") && e.getMessage().contains("context_length is 16"),
                e.getMessage());
        GptConfig tiny = GptConfig.preset("tiny");
        GptConfig smallVocab = new GptConfig(1000, tiny.contextLength(), tiny.embDim(), tiny.nHeads(), tiny.nLayers(),
                tiny.dropRate(), tiny.qkvBias(), tiny.tieWeights(), tiny.position());
        e = assertThrows(UserInputException.class, () -> TrainJob.run(spark, config(tmp.resolve("v"), smallVocab, 8,
                false)));
        assertTrue(e.getMessage().contains("vocab_size 50257 (r50k_base)") && e.getMessage().contains("is 1000"),
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("v")), "nothing written");
    }

    /** the-verdict tokenized (--max-length 32 --stride 32) by the last sparkgpt writing format 1. */
    @Test
    void aDatasetOfThePreviousFormatVersionIsRefusedNamingBothVersions() throws Exception {
        String old = Path.of(getClass().getResource("/datasets/the-verdict-format-1").toURI()).toString();
        TrainConfig config = config(tmp.resolve("c"), GptConfig.preset("tiny"), 8, false).with(Map.of("data", old));
        UserInputException e = assertThrows(UserInputException.class, () -> TrainJob.run(spark, config));
        assertEquals("--data: dataset " + old + " has format_version 1 but this sparkgpt reads format_version 2: "
                + "tokenize its corpus again with this version's sparkgpt tokenize", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("c")), "nothing written");
    }
}
