package io.sparkgpt.jobs.train;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * Where the workers' time goes, summed over all workers through Spark accumulators (so it works
 * on a cluster): getting the round's network ready, and training on the round's minibatches.
 */
final class WorkerTimes implements Serializable {
    final LongAccumulator built;
    final LongAccumulator initNanos;
    final LongAccumulator computeNanos;

    WorkerTimes(SparkContext sc) {
        built = sc.longAccumulator("sparkgpt: worker networks built");
        initNanos = sc.longAccumulator("sparkgpt: worker network setup ns");
        computeNanos = sc.longAccumulator("sparkgpt: worker training ns");
    }
}
