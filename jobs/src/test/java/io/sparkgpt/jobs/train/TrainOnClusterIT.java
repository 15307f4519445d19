package io.sparkgpt.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar on a real two-worker standalone cluster (separate JVMs, authentication on):
 * tokenize, train 8 steps, then resume to 16, as a user submits them.
 */
class TrainOnClusterIT {
    @TempDir
    Path tmp;

    private static void run(LocalCluster cluster, Path log, String... command) throws Exception {
        LocalCluster.awaitSuccess(cluster.submit(log, command), log);
    }

    private static String[] train(Path data, Path ckpt, String steps, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--checkpoint-dir",
                ckpt.toString(), "--preset", "tiny", "--max-steps", steps, "--lr-decay-steps", "16",
                "--batch-size-per-worker", "2", "--averaging-frequency", "2", "--workers", "2", "--eval-every", "4",
                "--lr", "2e-3", "--progress-seconds", "0", "--json"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    record Submission(int status, double seconds, String log) {
    }

    /** scripts/sparkgpt straight at the cluster's master, without the cluster's secret. */
    private Submission submitWithoutTheSecret(LocalCluster cluster, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("bash", Path.of("..", "scripts", "sparkgpt").toAbsolutePath()
                .toString(), "--master", cluster.masterUrl()));
        args.addAll(List.of(command));
        Path log = tmp.resolve("unauthenticated.log");
        long started = System.nanoTime();
        Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "finished: " + log);
        return new Submission(p.exitValue(), (System.nanoTime() - started) / 1e9, Files.readString(log));
    }

    @Test
    void tokenizeTrainCheckpointAndResumeOnATwoWorkerCluster() throws Exception {
        Submission unauthenticated;
        Path data = tmp.resolve("dataset");
        Path ckpt = tmp.resolve("checkpoints");
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state")), 2)) {
            run(cluster, tmp.resolve("tokenize.log"), "tokenize", "--input",
                    Path.of("..", "data", "the-verdict.txt").toAbsolutePath().toString(), "--output", data.toString(),
                    "--max-length", "64", "--stride", "64");
            run(cluster, tmp.resolve("train.log"), train(data, ckpt, "8"));
            run(cluster, tmp.resolve("resume.log"), train(data, ckpt, "16", "--resume"));
            unauthenticated = submitWithoutTheSecret(cluster, train(data, tmp.resolve("unauthenticated"), "4"));
        }
        assertEquals(2, unauthenticated.status(), unauthenticated.log());
        assertTrue(unauthenticated.seconds() < 20, "refused in " + unauthenticated.seconds() + " s");
        assertTrue(unauthenticated.log().contains("error: the Spark master at spark://127.0.0.1:17077 requires "
                + "authentication (spark.authenticate) and this client does not authenticate: submit with "
                + "scripts/local-cluster submit"), unauthenticated.log());
        String trained = Files.readString(tmp.resolve("train.log"));
        assertTrue(trained.contains("watch the run: metrics in "), "where to watch the run");
        // Rounds between evaluations print a line each (--progress-seconds 0); evaluations at 0, 4, 8.
        for (int step : List.of(2, 6)) {
            assertTrue(trained.contains("INFO TrainJob: step " + step + "/8 | round loss "), trained);
        }
        List<String> metrics = Files.readAllLines(ckpt.resolve("metrics.jsonl"));
        List<Long> steps = new ArrayList<>();
        for (String line : metrics) {
            steps.add(new ObjectMapper().readTree(line).get("step").asLong());
        }
        assertEquals(List.of(0L, 4L, 8L, 12L, 16L), steps, "evaluations of both runs, in order");
        String resumed = Files.readString(tmp.resolve("resume.log"));
        assertTrue(resumed.contains("resuming from") && resumed.contains("step-00000008"), resumed);
        JsonNode result = new ObjectMapper().readTree(resumed.lines().filter(l -> l.startsWith("{"))
                .reduce((a, b) -> b).orElseThrow());
        assertEquals(16, result.get("steps").asLong());
        assertTrue(result.get("checkpoint").asText().endsWith("step-00000016"), result.toString());
        assertTrue(Files.exists(ckpt.resolve("loss.png")));
        JsonNode first = new ObjectMapper().readTree(metrics.get(0));
        JsonNode last = new ObjectMapper().readTree(metrics.get(metrics.size() - 1));
        assertTrue(last.get("train_loss").asDouble() < first.get("train_loss").asDouble(), metrics.toString());
    }
}
