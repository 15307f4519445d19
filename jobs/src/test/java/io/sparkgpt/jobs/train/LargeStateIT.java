package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose synchronized state is over 2 GB a worker (180 M parameters: GPT-2-small-sized
 * embeddings over an 81,920-entry vocabulary, one block of width 1024) trains on two local
 * workers with --sync params, its state moving in 32 MB blocks; --sync dl4j refuses it, naming
 * the fix. Run through scripts/sparkgpt, in its own JVM with room for three such networks.
 */
class LargeStateIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    @TempDir
    static Path tmp;
    static Path data;
    static Path config;

    @BeforeAll
    static void tokenize() throws Exception {
        data = tmp.resolve("dataset");
        config = tmp.resolve("large-state.json");
        Files.writeString(config, "{\"vocab_size\": 81920, \"context_length\": 16, \"emb_dim\": 1024, \"n_heads\": 16,"
                + " \"n_layers\": 1, \"drop_rate\": 0.0, \"qkv_bias\": false, \"tie_weights\": false,"
                + " \"position\": \"learned\"}");
        assertEquals(0, sparkgpt(tmp.resolve("tokenize.log"), "tokenize", "--input",
                ROOT.resolve("data/the-verdict.txt").toString(), "--output", data.toString(), "--max-length", "16",
                "--stride", "16"), "tokenize");
    }

    private static int sparkgpt(Path log, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("scripts/sparkgpt").toString(),
                "--master", "local[2]"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARKGPT_DRIVER_MEMORY", "6g");
        pb.environment().put("SPARKGPT_JAVA_OPTS", "-Dorg.bytedeco.javacpp.maxbytes=14G "
                + "-Dorg.bytedeco.javacpp.maxphysicalbytes=20G");
        Process p = pb.start();
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "finished in time: " + log);
        return p.exitValue();
    }

    private static List<String> train(String sync) {
        return List.of("train", "--data", data.toString(), "--checkpoint-dir", tmp.resolve(sync).toString(),
                "--config", config.toString(), "--workers", "2", "--batch-size-per-worker", "1",
                "--averaging-frequency", "1", "--max-steps", "2", "--eval-every", "2", "--eval-batches", "1",
                "--sample-prompt", "", "--sync", sync, "--json");
    }

    @Test
    void aStateOverTwoGigabytesTrainsWithShardedAveraging() throws Exception {
        Path log = tmp.resolve("params.log");
        assertEquals(0, sparkgpt(log, train("params").toArray(String[]::new)), Files.readString(log));
        JsonNode result = new ObjectMapper().readTree(Files.readString(log).lines().filter(l -> l.startsWith("{"))
                .reduce((a, b) -> b).orElseThrow());
        System.out.println("LARGE STATE " + result);
        assertTrue(result.get("state_bytes").asLong() > (1L << 31), "over 2 GiB: " + result.get("state_bytes"));
        assertEquals(2, result.get("steps").asLong());
        assertTrue(Double.isFinite(result.get("val_loss").asDouble()) && result.get("val_loss").asDouble() < 12,
                result.toString());
    }

    @Test
    void dl4jSparkAveragingRefusesItAndNamesTheFix() throws Exception {
        Path log = tmp.resolve("dl4j.log");
        assertEquals(2, sparkgpt(log, train("dl4j").toArray(String[]::new)), Files.readString(log));
        assertTrue(Files.readString(log).contains("use --sync params"), Files.readString(log));
    }
}
