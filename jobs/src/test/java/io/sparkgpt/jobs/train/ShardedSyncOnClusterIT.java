package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --sync params on a real standalone cluster of four executor JVMs: the state travels between
 * executors through their block managers (SparkBlocks' calls, cross-JVM), the result equals
 * dl4j-spark's averaging, and the driver receives none of the state, at 2 workers or 4 (what it
 * does receive, the losses and Spark's task status, grows by a few kilobytes a task).
 */
class ShardedSyncOnClusterIT {
    @TempDir
    Path tmp;

    private JsonNode train(LocalCluster cluster, Path data, String sync, int workers) throws Exception {
        String name = sync + "-" + workers;
        Path log = tmp.resolve(name + ".log");
        LocalCluster.awaitSuccess(cluster.submit(log, "train", "--data", data.toString(), "--checkpoint-dir",
                tmp.resolve(name).toString(), "--preset", "tiny", "--max-steps", "4", "--batch-size-per-worker", "2",
                "--averaging-frequency", "2", "--workers", Integer.toString(workers), "--eval-every", "4",
                "--eval-batches", "2", "--lr", "2e-3", "--sync", sync, "--json"), log);
        String json = Files.readString(log).lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow();
        JsonNode result = new ObjectMapper().readTree(json);
        System.out.printf("SYNC %s on %d workers: driver received %,d bytes a round; state %,d bytes; timing %s%n",
                sync, workers, result.get("driver_bytes_per_round").asLong(), result.get("state_bytes").asLong(),
                result.get("timing"));
        assertEquals(sync, result.get("sync").asText());
        return result;
    }

    @Test
    void shardedAveragingEqualsDl4jAcrossExecutorsAndTheDriverReceivesNoState() throws Exception {
        Path data = tmp.resolve("dataset");
        JsonNode params2;
        JsonNode dl4j2;
        JsonNode params4;
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state")), 4)) {
            Path log = tmp.resolve("tokenize.log");
            LocalCluster.awaitSuccess(cluster.submit(log, "tokenize", "--input", Path.of("..", "data",
                    "the-verdict.txt").toAbsolutePath().toString(), "--output", data.toString(), "--max-length", "64",
                    "--stride", "64"), log);
            params2 = train(cluster, data, "params", 2);
            dl4j2 = train(cluster, data, "dl4j", 2);
            params4 = train(cluster, data, "params", 4);
        }
        for (String key : List.of("train_loss", "val_loss")) {
            assertEquals(dl4j2.get(key).asDouble(), params2.get(key).asDouble(), 1e-6, key + ", 2 workers");
        }
        long state = params2.get("state_bytes").asLong();
        assertEquals(state, params4.get("state_bytes").asLong());
        assertTrue(state > 50_000_000, "tiny's parameters and Adam's moments: " + state);
        for (JsonNode sharded : List.of(params2, params4)) {
            // Losses, accumulators and Spark's own task status: kilobytes, not the state.
            assertTrue(sharded.get("driver_bytes_per_round").asLong() < 64 * 1024, sharded.toString());
        }
        // dl4j-spark ships each worker's state to the driver: the last tree level's results.
        assertTrue(dl4j2.get("driver_bytes_per_round").asLong() >= 2 * state, dl4j2.toString());
    }
}
