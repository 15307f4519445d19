package io.sparkgpt.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: exit codes, messages, --json, validation before Spark. */
class SparkGptCliTest {
    private ConsoleCapture console;
    @TempDir
    Path tmp;

    @BeforeEach
    void capture() {
        console = new ConsoleCapture();
        // The launcher or spark-submit sets the master; here the test plays the launcher.
        System.setProperty("spark.master", "local[2]");
        System.setProperty("spark.ui.enabled", "false");
    }

    @AfterEach
    void restore() {
        console.close();
        System.clearProperty("spark.master");
        System.clearProperty("spark.ui.enabled");
    }

    private String stderr() {
        return console.err();
    }

    @Test
    void helpListsTheCommandsAndExitsZero() {
        assertEquals(0, SparkGpt.execute("--help"));
        String help = console.out();
        assertTrue(help.contains("tokenize") && help.contains("bench"), help);
    }

    @Test
    void anUnknownOptionIsNamedAndExitsTwo() {
        assertEquals(2, SparkGpt.execute("tokenize", "--input", "x", "--output", "y", "--bogus"));
        assertTrue(stderr().contains("Unknown option: '--bogus'"), stderr());
    }

    @Test
    void anOptionOutOfRangeIsRefusedBeforeSparkStarts() {
        // Had Spark started, this master would fail it with another message.
        System.setProperty("spark.master", "nowhere://spark-must-not-start");
        assertEquals(2, SparkGpt.execute("tokenize", "--input", "x", "--output", "y", "--max-length", "0"));
        assertTrue(stderr().contains("error: --max-length 0 must be at least 1"), stderr());
        assertEquals(2, SparkGpt.execute("tokenize", "--input", "x", "--output", "y", "--format", "csv"));
        assertTrue(stderr().contains("unknown --format 'csv'"), stderr());
        assertEquals(2, SparkGpt.execute("train", "--data", "d", "--checkpoint-dir", "c", "--max-steps", "5",
                "--init", "xavier"));
        assertTrue(stderr().contains("--init xavier is not one of [gpt2, book]"), stderr());
    }

    @Test
    void tokenizeWithJsonPrintsOneJsonObjectThatMatchesTheDataset() throws Exception {
        Path output = tmp.resolve("dataset");
        int status = SparkGpt.execute("tokenize", "--input", Path.of("..", "data", "the-verdict.txt").toString(),
                "--output", output.toString(), "--json");
        assertEquals(0, status, stderr());
        String stdout = console.out().trim();
        assertFalse(stdout.contains("\n"), "one line of JSON on stdout: " + stdout);
        JsonNode json = new ObjectMapper().readTree(stdout);
        assertEquals(18, json.get("train").get("windows").asInt());
        assertEquals(2, json.get("val").get("windows").asInt());
        JsonNode manifest = new ObjectMapper().readTree(output.resolve("dataset.json").toFile());
        assertEquals(manifest.get("train"), json.get("train"), "stdout and dataset.json agree");
        assertTrue(Files.isDirectory(output.resolve("train")));
    }

    @Test
    void aMissingInputExitsTwoNamingIt() {
        assertEquals(2, SparkGpt.execute("tokenize", "--input", tmp.resolve("nope.txt").toString(),
                "--output", tmp.resolve("out").toString()));
        assertTrue(stderr().contains("nope.txt does not exist"), stderr());
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    @Test
    void aMasterNothingListensOnExitsTwoInSecondsNamingIt() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        System.setProperty("spark.master", "spark://127.0.0.1:" + port);
        long started = System.nanoTime();
        assertEquals(2, SparkGpt.execute("tokenize", "--input", Path.of("..", "data", "the-verdict.txt").toString(),
                "--output", tmp.resolve("out").toString()));
        assertTrue(stderr().contains("no Spark master answers at spark://127.0.0.1:" + port)
                && stderr().contains("fix --master"), stderr());
        assertTrue((System.nanoTime() - started) / 1e9 < 30, "not Spark's minute of retries");
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    @Test
    void aModelConfigWhoseEmbDimIsNotDivisibleByNHeadsExitsTwoBeforeSparkStarts() throws Exception {
        System.setProperty("spark.master", "nowhere://spark-must-not-start");
        Path config = Files.writeString(tmp.resolve("bad.json"), "{\"vocab_size\": 50257, \"context_length\": 64, "
                + "\"emb_dim\": 100, \"n_heads\": 3, \"n_layers\": 2, \"drop_rate\": 0.1, \"qkv_bias\": false}");
        assertEquals(2, SparkGpt.execute("train", "--data", tmp.toString(), "--checkpoint-dir",
                tmp.resolve("ckpt").toString(), "--config", config.toString(), "--max-steps", "1"));
        assertTrue(stderr().contains("emb_dim 100 is not divisible by n_heads 3"), stderr());
        assertFalse(Files.exists(tmp.resolve("ckpt")), "nothing written");
    }
}
