package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.ConsoleCapture;
import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.SparkGpt;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.model.CheckpointSource;
import io.sparkgpt.jobs.tokenize.InputFormat;
import io.sparkgpt.jobs.tokenize.LabeledTokenizeJob;
import io.sparkgpt.jobs.tokenize.TokenizeConfig;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.model.GptParams;
import io.sparkgpt.model.Trainable;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train-classifier on embedded Spark with two workers: a separable two-class corpus (sunny and
 * stormy words), learned from scratch; exact resume; fine-tuning the last block of a language
 * model's checkpoint under each synchronization leaves every other weight exact; classify.
 */
class TrainClassifierTest {
    static SparkSession spark;
    @TempDir
    static Path shared;
    static Path dataset;
    @TempDir
    Path tmp;

    @BeforeAll
    static void tokenize() throws IOException {
        spark = LocalSpark.start();
        Path corpus = shared.resolve("weather.jsonl");
        Files.write(corpus, weather(240));
        dataset = Path.of(LabeledTokenizeJob.run(spark, new TokenizeConfig(List.of(corpus.toString()),
                shared.resolve("weather").toString(), InputFormat.JSONL, "text", Tokenizer.GPT2, 12, 12, 0.2, 0,
                false, false, 64, 64, "label")).output().replace("file:", ""));
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    /** Records of 3 to 8 words, all sunny (label "sun") or all stormy ("storm"). */
    static List<String> weather(int n) {
        String[][] words = {{"sun", "light", "gold", "joy", "bright", "warm"}, {"rain", "dark", "cold", "gloom",
                "grey", "storm"}};
        Random random = new Random(11);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = i % 2;
            StringBuilder text = new StringBuilder();
            for (int w = 3 + random.nextInt(6); w > 0; w--) {
                text.append(text.isEmpty() ? "" : " ").append(words[label][random.nextInt(6)]);
            }
            lines.add("{\"text\": \"" + text + "\", \"label\": \"" + (label == 0 ? "sun" : "storm") + "\"}");
        }
        return lines;
    }

    /** 2 workers x batch 8, averaging every 2 steps, lr 2e-3 decaying over 30 steps; {@code passed}: the options given. */
    static TrainConfig config(Path checkpoints, GptConfig model, long steps, boolean resume, String sync,
                              TrainConfig.Classifier classifier, Set<String> passed) {
        return new TrainConfig(dataset.toString(), checkpoints.toString(), model, steps, 0, 8, 2, 2, 0, 2, 2e-3,
                2e-4, 2, 30, 0.1, 1.0, 6, 2, 6, 2, "", resume, 7, "gpt2", sync, 1, 0, passed, classifier);
    }

    static TrainConfig fromScratch(Path checkpoints, long steps, boolean resume) {
        return config(checkpoints, GptConfig.preset("tiny"), steps, resume, "params",
                new TrainConfig.Classifier(null, Trainable.ALL), Set.of("max_steps", "model"));
    }

    @Test
    void aClassifierFromScratchLearnsASeparableTaskAndWritesItsConfusionMatrix() throws IOException {
        TrainResult r = TrainJob.run(spark, fromScratch(tmp.resolve("run"), 30, false));
        TrainResult.Evaluation first = r.evaluations().get(0);
        assertEquals(Math.log(2), first.valLoss(), 0.3, "two classes, near-uniform at init");
        assertEquals(1.0, r.last().trainAccuracy(), "train sample: " + r.evaluations());
        assertEquals(1.0, r.last().valAccuracy(), "validation sample: " + r.evaluations());
        ConfusionMatrix m = r.confusion();
        assertEquals(List.of("storm", "sun"), m.labels());
        long val = spark.read().parquet(dataset + "/val").count();
        assertEquals(val, m.total(), "every validation example");
        assertEquals(0, m.counts()[0][1] + m.counts()[1][0], "no confusion on a separable task");
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("run/confusion.json").toFile());
        assertEquals("[[" + m.counts()[0][0] + ",0],[0," + m.counts()[1][1] + "]]", json.get("matrix").toString());
        assertTrue(Files.size(tmp.resolve("run/confusion.png")) > 1000, "the confusion matrix PNG");
        var out = new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(TrainCommand.toJson(r));
        for (String key : List.of("steps", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "checkpoint")) {
            assertTrue(out.hasNonNull(key), key + " in " + out);
        }
        String metrics = Files.readString(tmp.resolve("run/metrics.jsonl"));
        assertTrue(metrics.contains("\"val_accuracy\":1.0") && !metrics.contains("perplexity"), metrics);
    }

    @Test
    void resumeContinuesTheClassifierExactly() throws IOException {
        TrainResult whole = TrainJob.run(spark, fromScratch(tmp.resolve("whole"), 12, false));
        TrainJob.run(spark, fromScratch(tmp.resolve("split"), 6, false));
        TrainResult resumed = TrainJob.run(spark, fromScratch(tmp.resolve("split"), 12, true));
        assertEquals(whole.roundLosses().subList(3, 6), resumed.roundLosses());
        TrainResult.Evaluation a = whole.last();
        TrainResult.Evaluation b = resumed.last();
        assertEquals(List.of(a.step(), a.trainLoss(), a.valLoss(), a.trainAccuracy(), a.valAccuracy()),
                List.of(b.step(), b.trainLoss(), b.valLoss(), b.trainAccuracy(), b.valAccuracy()));
    }

    /** The last block, the final norm and the head move; every other pretrained weight keeps its bits. */
    @Test
    void fineTuningTheLastBlockLeavesEveryOtherPretrainedWeightExactUnderEachSync() throws Exception {
        GptConfig lm = GptConfig.preset("tiny");
        CheckpointStore store = new CheckpointStore(tmp.resolve("lm").toString(), new Configuration());
        ComputationGraph pretrained = GptNetwork.build(lm, 3);
        store.save(NetworkCheckpoints.capture(pretrained, io.sparkgpt.jobs.checkpoint.TrainingState.start(3)));
        Map<String, INDArray> before = pretrained.getLayer(GptNetwork.LAYER).paramTable();
        for (String sync : TrainConfig.SYNCS) {
            // --preset not given: the command's default (mini) gives way to the checkpoint's model.
            TrainResult r = TrainJob.run(spark, config(tmp.resolve("ft-" + sync), GptConfig.preset("mini"), 4, false,
                    sync, new TrainConfig.Classifier(tmp.resolve("lm").toString(), Trainable.LAST_BLOCK),
                    Set.of("max_steps")));
            ComputationGraph tuned = NetworkCheckpoints.forInference(CheckpointSource.open(r.lastCheckpoint(),
                    new Configuration()).checkpoint());
            assertEquals(lm.asClassifier(2), GptNetwork.config(tuned), "the --from checkpoint's model, not --preset's");
            Map<String, INDArray> after = tuned.getLayer(GptNetwork.LAYER).paramTable();
            for (GptParams.Spec s : GptParams.specs(lm.asClassifier(2))) {
                if (Trainable.LAST_BLOCK.trains(s.name(), lm.asClassifier(2))) {
                    assertNotEquals(before.get(s.name()), after.get(s.name()), sync + ": " + s.name() + " is trained");
                } else {
                    assertEquals(before.get(s.name()), after.get(s.name()), sync + ": " + s.name() + " is frozen");
                }
            }
        }
    }

    @Test
    void eachTrainingCommandRefusesTheOtherTasksDataset() throws IOException {
        Path lmData = io.sparkgpt.jobs.VerdictBatches.dataset(spark, tmp.resolve("verdict"));
        TrainConfig lm = config(tmp.resolve("a"), GptConfig.preset("tiny"), 4, false, "params", null, null);
        String onLabeled = assertThrows(UserInputException.class, () -> TrainJob.run(spark, lm)).getMessage();
        assertTrue(onLabeled.endsWith("is a classification dataset (labels [storm, sun]): train a classifier on it "
                + "with sparkgpt train-classifier"), onLabeled);
        String onWindows = assertThrows(UserInputException.class, () -> TrainJob.run(spark,
                fromScratch(tmp.resolve("b"), 4, false).with(Map.of("data", lmData.toString())))).getMessage();
        assertTrue(onWindows.endsWith("holds language-model windows: make a classification dataset with sparkgpt "
                + "tokenize --label-field for train-classifier"), onWindows);
        assertEquals("--trainable head freezes untrained weights: give --from CHECKPOINT (a pretrained model), or "
                + "train all", assertThrows(UserInputException.class,
                () -> new TrainConfig.Classifier(null, Trainable.HEAD)).getMessage());
    }

    @Test
    void classifyPrintsEachTextsLabelAndProbabilities() throws Exception {
        TrainResult r = TrainJob.run(spark, fromScratch(tmp.resolve("run"), 30, false));
        try (ConsoleCapture console = new ConsoleCapture()) {
            assertEquals(0, SparkGpt.execute("classify", "--checkpoint", tmp.resolve("run").toString(), "--text",
                    "bright warm gold", "--text", "cold dark rain", "--json"), console.err());
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(console.out());
            assertEquals(r.lastCheckpoint(), json.get("checkpoint").asText());
            assertEquals("sun", json.get("predictions").get(0).get("label").asText());
            assertEquals("storm", json.get("predictions").get(1).get("label").asText());
            var p = json.get("predictions").get(1).get("probabilities");
            assertEquals(1.0, p.get("sun").asDouble() + p.get("storm").asDouble(), 1e-12);
            console.reset();
            Path texts = tmp.resolve("texts.txt");
            Files.write(texts, List.of("gloom and storm", "", "joy"));            // the empty line is skipped
            assertEquals(0, SparkGpt.execute("classify", "--checkpoint", tmp.resolve("run").toString(), "--input",
                    texts.toString()), console.err());
            List<String> lines = console.out().lines().toList();
            assertEquals(2, lines.size(), console.out());
            assertTrue(lines.get(0).startsWith("storm\t") && lines.get(0).endsWith("\tgloom and storm"), lines.get(0));
            assertTrue(lines.get(1).startsWith("sun\t") && lines.get(1).endsWith("\tjoy"), lines.get(1));
            console.reset();
            assertEquals(2, SparkGpt.execute("classify", "--checkpoint", tmp.resolve("run").toString()));
            assertTrue(console.err().contains("give --text TEXT (one or more) or --input FILE"), console.err());
            console.reset();
            assertEquals(2, SparkGpt.execute("generate", "--checkpoint", tmp.resolve("run").toString(), "--prompt",
                    "sun"));
            assertTrue(console.err().contains("is a classifier's (train-classifier), not a language model's: label "
                    + "texts with sparkgpt classify"), console.err());
        }
    }
}
