package io.sparkgpt.jobs;

import org.apache.spark.sql.SparkSession;

/** The embedded local Spark of the tests: two worker threads, no UI. */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static SparkSession start() {
        return SparkSession.builder().master("local[2]").appName("sparkgpt-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    public static void stop(SparkSession spark) {
        io.sparkgpt.jobs.cli.Sessions.stop(spark);
    }
}
