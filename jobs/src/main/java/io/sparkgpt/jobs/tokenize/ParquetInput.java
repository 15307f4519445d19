package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

import java.util.Arrays;

/** Reads the text column of Parquet input with partitions that depend on the data, not the cluster. */
final class ParquetInput {
    private static final String MAX_PARTITION_BYTES = "spark.sql.files.maxPartitionBytes";
    private static final String MIN_PARTITION_NUM = "spark.sql.files.minPartitionNum";

    private ParquetInput() {
    }

    static JavaRDD<Row> documentRows(SparkSession spark, TokenizeConfig config, CorpusPlan plan) {
        Dataset<Row> table = spark.read().parquet(plan.files().toArray(String[]::new));
        StructField field = Arrays.stream(table.schema().fields())
                .filter(f -> f.name().equals(config.textField())).findFirst().orElse(null);
        if (field == null || !field.dataType().equals(DataTypes.StringType)) {
            throw new UserInputException("parquet input " + String.join(", ", config.inputs())
                    + " has no string column '" + config.textField() + "' (columns: "
                    + TokenizeJob.columns(table.schema()) + "): name the text column with --text-field");
        }
        // Spark sizes file splits by the cores it has unless told a minimum partition count;
        // shards must not depend on the cluster, so fix the split size to the shard size.
        spark.conf().set(MAX_PARTITION_BYTES, Long.toString(config.shardSizeBytes()));
        spark.conf().set(MIN_PARTITION_NUM, "1");
        return table.select(config.textField()).javaRDD();
    }

    static void restorePartitioning(SparkSession spark) {
        spark.conf().unset(MAX_PARTITION_BYTES);
        spark.conf().unset(MIN_PARTITION_NUM);
    }
}
