package io.sparkgpt.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No secret reaches a log, a metric, a dataset or a checkpoint: the cluster's generated Spark
 * secret and planted S3 keys are searched for, byte for byte, in everything a run leaves behind.
 */
class NoSecretsLeakIT {
    static final String S3_SECRET = "PLANTED-S3-SECRET-6f1d0c2a";
    static final String S3_ACCESS = "PLANTED-ACCESS-KEY-9c2e77b1";
    @TempDir
    Path tmp;

    private static void run(LocalCluster cluster, Path log, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("--conf", "spark.hadoop.fs.s3a.secret.key=" + S3_SECRET,
                "--conf", "spark.hadoop.fs.s3a.access.key=" + S3_ACCESS));
        args.addAll(List.of(command));
        // spark-submit options, then the command
        LocalCluster.awaitSuccess(cluster.submit(log, args.toArray(String[]::new)), log);
    }

    @Test
    void theSparkSecretAndS3KeysAppearInNoLogMetricDatasetOrCheckpoint() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path runs = Files.createDirectories(tmp.resolve("runs"));
        String sparkSecret;
        try (LocalCluster cluster = LocalCluster.start(state, 2)) {
            sparkSecret = clusterSecret(state);
            Path data = runs.resolve("dataset");
            run(cluster, runs.resolve("tokenize.log"), "tokenize", "--input",
                    Path.of("..", "data", "the-verdict.txt").toAbsolutePath().toString(), "--output", data.toString(),
                    "--max-length", "64", "--stride", "64");
            run(cluster, runs.resolve("train.log"), "train", "--data", data.toString(), "--checkpoint-dir",
                    runs.resolve("checkpoints").toString(), "--preset", "tiny", "--max-steps", "4",
                    "--batch-size-per-worker", "2", "--averaging-frequency", "2", "--workers", "2", "--eval-every", "2");
        }
        int searched = 0;
        for (Path root : List.of(runs, state)) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    if (file.getFileName().toString().equals("spark-auth.conf")) {
                        continue; // where the secret is meant to be (mode 600), deleted at stop
                    }
                    String content = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                    for (String secret : List.of(sparkSecret, S3_SECRET, S3_ACCESS)) {
                        assertTrue(!content.contains(secret), "a secret in " + file);
                    }
                    searched++;
                }
            }
        }
        assertTrue(searched > 20, "logs of master, workers, executors and driver, metrics, dataset, checkpoints: "
                + searched + " files");
    }

    private static String clusterSecret(Path state) throws IOException {
        Matcher m = Pattern.compile("spark.authenticate.secret (\\S+)").matcher(
                Files.readString(state.resolve("spark-auth.conf")));
        assertTrue(m.find(), "the cluster's generated secret");
        assertTrue(m.group(1).length() >= 32, "a real secret");
        return m.group(1);
    }
}
