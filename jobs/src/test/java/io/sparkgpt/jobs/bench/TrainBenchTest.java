package io.sparkgpt.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.ConsoleCapture;
import io.sparkgpt.jobs.SparkGpt;
import io.sparkgpt.model.GptConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench train} as a user runs it, on the tiny preset for two steps. */
class TrainBenchTest {
    private ConsoleCapture console;

    @BeforeEach
    void capture() {
        console = new ConsoleCapture();
    }

    @AfterEach
    void restore() {
        console.close();
    }

    @Test
    void printsThroughputMemoryAndMfuAsJson() throws Exception {
        int status = SparkGpt.execute("bench", "train", "--preset", "tiny", "--batch-size", "2", "--steps", "2",
                "--warmup", "1", "--input", "../data/the-verdict.txt", "--json");
        assertEquals(0, status, console.err());
        JsonNode r = new ObjectMapper().readTree(console.out());
        for (String key : new String[] {"tokens_per_s", "step_ms", "peak_rss_mb", "mfu", "peak_gflops"}) {
            assertTrue(r.hasNonNull(key), "missing " + key + " in " + r);
        }
        assertTrue(r.get("tokens_per_s").asDouble() > 0, r.toString());
        assertTrue(r.get("step_ms").asDouble() > 0, r.toString());
        assertTrue(r.get("peak_rss_mb").asDouble() > 0, r.toString());
        assertTrue(r.get("peak_gflops").asDouble() > 0, r.toString());
        double mfu = r.get("mfu").asDouble();
        assertTrue(mfu > 0 && mfu < 1, "mfu " + mfu);
        assertEquals(2 * 64 / (r.get("step_ms").asDouble() / 1000), r.get("tokens_per_s").asDouble(),
                r.get("tokens_per_s").asDouble() * 0.01, "tokens/s = batch * T / step time");
        assertTrue(Double.isFinite(r.get("loss_last").asDouble()), r.toString());
    }

    @Test
    void countsFlopsAsNanoGptWithoutTheEmbeddingLookups() {
        // mini: 6 * (28,920,832 - 50257*256 token table - 128*256 position table) + 12*4*4*64*128
        assertEquals(6.0 * (28_920_832L - 50257L * 256 - 128L * 256) + 12.0 * 4 * 4 * 64 * 128,
                TrainBench.flopsPerToken(GptConfig.preset("mini")), 0.5);
        // Tied: the token table is the head's matmul, so it counts.
        GptConfig tied = GptConfig.preset("mini").withTieWeights(true);
        assertEquals(6.0 * (tied.parameterCount() - 128L * 256) + 12.0 * 4 * 4 * 64 * 128,
                TrainBench.flopsPerToken(tied), 0.5);
    }

    @Test
    void refusesAMissingInputAsBadInput() {
        assertEquals(2, SparkGpt.execute("bench", "train", "--preset", "tiny", "--input", "no-such-file.txt"));
        assertTrue(console.err().contains("no-such-file.txt"), console.err());
    }
}
