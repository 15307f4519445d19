package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.SparkConf;

/**
 * dl4j-spark's stock averaging ({@code --sync dl4j}) sends every worker's parameters and Adam
 * moments back to the driver as Spark task results. Checked before the first round, so a
 * too-small {@code spark.driver.maxResultSize} fails in seconds, not after the first round's
 * compute. ({@code --sync params} sends no state through task results and needs no check.)
 */
final class ResultSize {
    /**
     * Spark 3.5 itself chunks task results (SPARK-40622), but a dl4j-spark result is one Java-serialized
     * object holding whole INDArrays, which this project has not proven beyond 2 GB.
     */
    static final long MAX_TASK_RESULT = Integer.MAX_VALUE - 64L * 1024 * 1024;

    private ResultSize() {
    }

    /** Worker results the driver receives in the last stage of Spark's treeAggregate. */
    static int resultsAtDriver(int workers, int depth) {
        int partitions = workers;
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        while (partitions > scale + (int) Math.ceil((double) partitions / scale)) {
            partitions /= scale;
        }
        return partitions;
    }

    static void require(SparkConf conf, long valuesAWorker, int bytesAValue, int workers, int depth) {
        long perWorker = valuesAWorker * bytesAValue + 1024 * 1024;
        if (perWorker > MAX_TASK_RESULT) {
            throw new UserInputException(String.format("a worker's parameters and optimizer state are %.1f GB: "
                    + "--sync dl4j ships them as one Java-serialized task result, unproven beyond 2 GB; use "
                    + "--sync params (the default), which moves them in 32 MB blocks", perWorker / 1e9));
        }
        long needed = perWorker * resultsAtDriver(workers, depth);
        long max = conf.getSizeAsBytes("spark.driver.maxResultSize", "1g");
        if (max > 0 && needed > max) {
            long gib = (needed + (1L << 30) - 1) >> 30;
            throw new UserInputException(String.format("the driver receives %.2f GB of worker results a round "
                    + "(parameters and Adam moments, %d results), over spark.driver.maxResultSize (%d MB): pass "
                    + "--conf spark.driver.maxResultSize=%dg (and a driver memory above it)",
                    needed / 1e9, resultsAtDriver(workers, depth), max >> 20, gib));
        }
    }
}
