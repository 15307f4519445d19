package io.sparkgpt.jobs.cli;

import org.apache.spark.sql.SparkSession;

/** Starts the Spark session of a command. The master comes from the launcher or spark-submit. */
public final class Sessions {
    private Sessions() {
    }

    public static SparkSession start(String command) {
        return SparkSession.builder().appName("sparkgpt " + command).getOrCreate();
    }

    /** Stops the session and forgets it, so that a later command in this JVM starts afresh. */
    public static void stop(SparkSession spark) {
        spark.stop();
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }
}
