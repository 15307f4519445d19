package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.io.HadoopConf;
import io.sparkgpt.jobs.io.OutputPublisher;
import io.sparkgpt.jobs.io.WriteFailures;
import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The tokenize job: a corpus on any Hadoop file system becomes a sliding-window dataset of BPE
 * ids in Parquet (DIR/train, DIR/val, DIR/dataset.json). The corpus is read and tokenized in
 * the executors, a shard a task; only file names and counts reach the driver.
 */
public final class TokenizeJob {
    private static final Pattern REMOTE_USER_ERROR =
            Pattern.compile(Pattern.quote(UserInputException.class.getName()) + ": ([^\\n]*)");

    private TokenizeJob() {
    }

    public static TokenizeResult run(SparkSession spark, TokenizeConfig config) throws IOException {
        long started = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        try (OutputPublisher output = new OutputPublisher(config.output(), config.overwrite(), hadoop,
                DatasetFormat.MANIFEST)) {
            CorpusPlan plan = CorpusPlanner.plan(config, hadoop);
            boolean bookSplit = config.format() == InputFormat.TEXT && plan.files().size() == 1;
            DatasetStats stats = tokenize(spark, config, plan, bookSplit, output.temporary());
            if (!bookSplit && stats.documents() == 1 && config.valFraction() > 0) {
                // One document in a line-based format: cut it at the character mark, like text.
                output.fileSystem().delete(output.temporary(), true);
                bookSplit = true;
                stats = tokenize(spark, config, plan, true, output.temporary());
            }
            requireWindows(config, stats);
            DatasetManifest manifest = DatasetManifest.of(config, stats, bookSplit);
            manifest.write(output.fileSystem(), output.temporary());
            Path published = output.publish();
            return new TokenizeResult(published.toString(), manifest, (System.nanoTime() - started) / 1e9);
        } catch (IOException | RuntimeException e) {
            Optional<String> problem = WriteFailures.storageProblem(e);
            if (problem.isPresent() && !(e instanceof UserInputException)) {
                throw new UserInputException("could not write output " + config.output() + " (" + problem.get()
                        + "): free space or choose another --output; nothing was published");
            }
            throw e;
        }
    }

    /** Writes all windows to {@code directory}'s splits; returns the shards' counts. */
    private static DatasetStats tokenize(SparkSession spark, TokenizeConfig config, CorpusPlan plan,
                                         boolean bookSplit, Path directory) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        TokenizeSettings settings = TokenizeSettings.of(config, bookSplit);
        ShardFunctions.Target target = new ShardFunctions.Target(directory.toString(),
                HadoopConf.broadcast(jsc));
        JavaRDD<ShardWindows.Output> outputs = config.format() == InputFormat.PARQUET
                ? ParquetInput.documentRows(spark, config, plan).mapPartitionsWithIndex(
                        new ShardFunctions.ParquetRowsToWindows(settings, target), true)
                : jsc.parallelize(plan.shards(), Math.max(1, plan.shards().size())).mapPartitionsWithIndex(
                        new ShardFunctions.FileShardToWindows(settings, target), true);
        String group = "sparkgpt-tokenize-" + UUID.randomUUID();
        jsc.setJobGroup(group, "tokenize " + config.output(), false);
        List<ShardWindows.Output> written;
        try (TokenizeProgress progress = new TokenizeProgress(jsc.sc(), group, outputs.getNumPartitions(),
                plan.totalBytes(), shardBytes(plan), System.err, TokenizeProgress.INTERVAL_SECONDS * 1000L)) {
            written = outputs.collect();
        } catch (Exception e) { // Spark's SparkException is checked, though Scala doesn't declare it
            throw userErrorIn(e);
        } finally {
            jsc.clearJobGroup();
            ParquetInput.restorePartitioning(spark);
        }
        WindowFiles.keepOnly(directory.getFileSystem(hadoop), directory,
                written.stream().flatMap(o -> o.files().stream()).toList(), hadoop);
        return DatasetStats.of(written.stream().map(ShardWindows.Output::report).toList(), plan, bookSplit);
    }

    /** The input bytes of each file shard, or null for Parquet input (Spark plans those reads). */
    private static long[] shardBytes(CorpusPlan plan) {
        if (plan.shards().isEmpty()) {
            return null;
        }
        return plan.shards().stream().mapToLong(Shard::bytes).toArray();
    }

    /**
     * A task's bad-input error, rethrown as itself rather than buried in Spark's job failure. On a
     * cluster the task's exception may reach the driver only as text in the failure message.
     */
    private static RuntimeException userErrorIn(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UserInputException u) {
                return new UserInputException(u.getMessage());
            }
        }
        Matcher remote = REMOTE_USER_ERROR.matcher(String.valueOf(e.getMessage()));
        if (remote.find()) {
            return new UserInputException(remote.group(1));
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }

    private static void requireWindows(TokenizeConfig config, DatasetStats stats) {
        String inputs = String.join(", ", config.inputs());
        if (stats.documents() == 0) {
            throw new UserInputException("input " + inputs + " has no documents to tokenize (skipped: "
                    + stats.skipped() + "): check --format (" + config.format().id() + ") and the files");
        }
        if (stats.train().windows() == 0) {
            throw new UserInputException(String.format("input %s gives %d training tokens, fewer than one window "
                    + "needs (--max-length %d + 1): lower --max-length or add text", inputs,
                    stats.train().tokens(), config.maxLength()));
        }
    }

    /** Column names, for error messages. */
    static String columns(StructType schema) {
        return java.util.Arrays.stream(schema.fields()).map(StructField::name).collect(Collectors.joining(", "));
    }
}
