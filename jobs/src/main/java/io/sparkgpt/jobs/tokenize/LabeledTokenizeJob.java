package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.io.OutputPublisher;
import io.sparkgpt.tokenization.DatasetFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tokenize --label-field}: a labeled corpus (JSON lines or Parquet, a text and a label a
 * record) becomes a classification dataset (see {@link DatasetFormat}): one example a record, its
 * ids truncated to --max-length or padded with the end-of-text id, its label an index into the
 * label names of dataset.json. Records go to train or val by a hash of their text and the seed
 * (the same text always lands in the same split). Spark reads the records and the executors
 * encode them; the driver sees the label names and the counts only.
 */
public final class LabeledTokenizeJob {
    /** More distinct labels than this is taken for the wrong field (a text, an id). */
    static final int MAX_CLASSES = 10_000;
    static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField(DatasetFormat.TOKENS, DataTypes.BinaryType, false),
            DataTypes.createStructField(DatasetFormat.LENGTH, DataTypes.IntegerType, false),
            DataTypes.createStructField(DatasetFormat.LABEL, DataTypes.IntegerType, false),
            DataTypes.createStructField(DatasetFormat.SHARD, DataTypes.IntegerType, false),
            DataTypes.createStructField(DatasetFormat.OFFSET, DataTypes.LongType, false)});

    private LabeledTokenizeJob() {
    }

    /** What the run wrote: the published directory and its dataset.json fields. */
    public record Result(String output, Map<String, Object> manifest, double seconds) {
    }

    public static Result run(SparkSession spark, TokenizeConfig config) throws IOException {
        long started = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        try (OutputPublisher output = new OutputPublisher(config.output(), config.overwrite(), hadoop,
                DatasetFormat.MANIFEST)) {
            Dataset<Row> records = LabeledRecords.read(spark, config);
            long unlabeled = LabeledRecords.requireComplete(records, config);
            Dataset<Row> complete = records.na().drop();
            List<String> labels = LabeledRecords.labelNames(complete, config);
            JavaRDD<LabeledExample> examples = complete.javaRDD()
                    .map(new LabeledExample.Encode(config, labels))
                    .persist(StorageLevel.MEMORY_AND_DISK_SER());
            try {
                LabeledStats stats = LabeledStats.of(examples, labels.size(), unlabeled);
                stats.requireExamples(config);
                for (String split : DatasetFormat.SPLITS) {
                    spark.createDataFrame(examples.filter(new LabeledExample.InSplit(split))
                            .map(new LabeledExample.ToRow()), SCHEMA)
                            .write().parquet(new Path(output.temporary(), split).toString());
                }
                Map<String, Object> fields = stats.manifest(config, labels);
                try (FSDataOutputStream out = output.fileSystem().create(
                        new Path(output.temporary(), DatasetFormat.MANIFEST), false)) {
                    out.write(DatasetFormat.manifestBytes(fields));
                }
                Path published = output.publish();
                return new Result(published.toString(), DatasetFormat.manifest(fields),
                        (System.nanoTime() - started) / 1e9);
            } catch (RuntimeException e) {
                throw LabeledRecords.userError(e, config);
            } finally {
                examples.unpersist(false);
            }
        }
    }

    /** A row of the dataset's Parquet schema ({@link #SCHEMA}). */
    static Row row(byte[] tokens, int length, int label, long offset) {
        return RowFactory.create(tokens, length, label, label, offset);
    }

    /** The records' two columns, for error messages. */
    static String columns(Dataset<Row> records) {
        return String.join(", ", Arrays.asList(records.columns()));
    }

    /** Counts as dataset.json holds them. */
    static Map<String, Object> counts(long examples, long tokens, long truncated, long[] byLabel, List<String> labels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents", examples);
        m.put(DatasetFormat.WINDOWS, examples);
        m.put("tokens", tokens);
        m.put("truncated", truncated);
        Map<String, Long> perLabel = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            perLabel.put(labels.get(i), byLabel[i]);
        }
        m.put("label_counts", perLabel);
        return m;
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new UserInputException(message);
        }
    }
}
