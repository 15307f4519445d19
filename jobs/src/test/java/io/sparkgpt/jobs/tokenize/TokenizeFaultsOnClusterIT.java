package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.LocalCluster;
import io.sparkgpt.jobs.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tokenizing on a real two-worker cluster survives losing a worker JVM: the dataset is exact. */
class TokenizeFaultsOnClusterIT {
    @TempDir
    Path tmp;

    /** A task has written its shard: a complete Parquet file (its footer ends in "PAR1") in the unpublished output. */
    private static boolean aTaskCommitted(Path parent) {
        try (Stream<Path> files = Files.walk(parent)) {
            return files.anyMatch(p -> p.toString().contains(".tmp-") && p.getFileName().toString()
                    .startsWith("part-") && endsWithParquetMagic(p));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false; // files come and go under our feet
        }
    }

    private static boolean endsWithParquetMagic(Path file) {
        try (var channel = Files.newByteChannel(file)) {
            long size = channel.size();
            if (size < 12) {
                return false;
            }
            ByteBuffer tail = ByteBuffer.allocate(4);
            channel.position(size - 4).read(tail);
            return new String(tail.array(), StandardCharsets.US_ASCII).equals("PAR1");
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aWorkerKilledMidTokenizeLeavesTheDatasetExactlyAsAnUndisturbedRun() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        String verdict = Files.readString(TokenizeJobTest.VERDICT);
        for (int i = 0; i < 500; i++) { // ~10 MB: long enough to kill a worker in the middle
            Files.writeString(corpus, verdict, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        String[] options = {"tokenize", "--input", corpus.toString(), "--format", "lines", "--shard-size-mb", "0.25",
                "--max-length", "64", "--stride", "64", "--output"};
        Path jobs = Files.createDirectories(tmp.resolve("jobs"));
        try (LocalCluster cluster = LocalCluster.start(Files.createDirectories(tmp.resolve("state")), 2)) {
            long undisturbedStart = System.nanoTime();
            LocalCluster.awaitSuccess(cluster.submit(tmp.resolve("undisturbed.log"), concat(options, jobs.resolve("undisturbed"))),
                    tmp.resolve("undisturbed.log"));
            double undisturbed = (System.nanoTime() - undisturbedStart) / 1e9;
            long started = System.nanoTime();
            Process driver = cluster.submit(tmp.resolve("disturbed.log"), concat(options, jobs.resolve("disturbed")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (!aTaskCommitted(jobs)) {
                assertTrue(System.nanoTime() < deadline && driver.isAlive(), "a task committed while the job ran");
                Thread.sleep(5);
            }
            long worker = cluster.workerPids().get(1);
            assertTrue(ProcessHandle.of(worker).orElseThrow().destroyForcibly(), "killed worker pid " + worker);
            double killedAt = (System.nanoTime() - started) / 1e9;
            assertTrue(driver.isAlive(), "the job was still running when the worker died");
            LocalCluster.awaitSuccess(driver, tmp.resolve("disturbed.log"));
            System.out.printf("FAULT worker loss in tokenize: killed worker JVM %d %.1f s in, after the first task "
                    + "committed; the job finished in %.1f s vs %.1f s undisturbed%n", worker, killedAt,
                    (System.nanoTime() - started) / 1e9, undisturbed);
        }
        SparkSession spark = LocalSpark.start();
        try {
            for (String split : new String[] {"train", "val"}) {
                Row want = fingerprint(spark, jobs.resolve("undisturbed"), split);
                assertTrue(want.getLong(0) > 1_000, split + " windows: " + want);
                assertEquals(want, fingerprint(spark, jobs.resolve("disturbed"), split), split + " windows");
            }
        } finally {
            LocalSpark.stop(spark);
        }
        assertEquals(Files.readString(jobs.resolve("undisturbed/dataset.json")).replace("undisturbed", "OUT"),
                Files.readString(jobs.resolve("disturbed/dataset.json")).replace("disturbed", "OUT"), "dataset.json");
    }

    /** The window count and an order-free hash of every (shard, offset, tokens) row. */
    private static Row fingerprint(SparkSession spark, Path dataset, String split) {
        return spark.read().parquet(dataset.resolve(split).toString())
                .selectExpr("count(*)", "sum(xxhash64(shard, offset, tokens))").first();
    }

    private static String[] concat(String[] options, Path output) {
        String[] all = java.util.Arrays.copyOf(options, options.length + 1);
        all[options.length] = output.toString();
        return all;
    }
}
