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
    /** Sharded averaging's parts of the synchronization: a worker loading the averaged state, storing its slices. */
    final LongAccumulator loadNanos;
    /** An average task's time (one a shard), summed. */
    final LongAccumulator averageNanos;

    WorkerTimes(SparkContext sc) {
        built = sc.longAccumulator("sparkgpt: worker networks built");
        initNanos = sc.longAccumulator("sparkgpt: worker network setup ns");
        computeNanos = sc.longAccumulator("sparkgpt: worker training ns");
        loadNanos = sc.longAccumulator("sparkgpt: worker state load and store ns");
        averageNanos = sc.longAccumulator("sparkgpt: shard averaging ns");
    }
}
