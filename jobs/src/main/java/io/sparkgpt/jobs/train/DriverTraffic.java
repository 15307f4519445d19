package io.sparkgpt.jobs.train;

import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.collection.JavaConverters;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * The bytes the driver receives from the training rounds' tasks: their serialized results
 * (Spark's resultSize task metric, which the driver sets on arrival). dl4j-spark's averaging
 * sends every worker's state this way; sharded averaging only the workers' losses and Spark's
 * own per-task status. Rounds are the jobs run inside {@link #round}.
 */
final class DriverTraffic extends SparkListener {
    private static final String GROUP = "sparkgpt-training-round";
    private final Set<Integer> roundStages = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytes = new AtomicLong();
    private final SparkContext sc;

    private DriverTraffic(SparkContext sc) {
        this.sc = sc;
    }

    static DriverTraffic listen(SparkContext sc) {
        DriverTraffic traffic = new DriverTraffic(sc);
        sc.addSparkListener(traffic);
        return traffic;
    }

    /** Runs one round's Spark jobs under the round's job group. */
    double round(JavaSparkContext jsc, long round, DoubleSupplier fit) {
        jsc.setJobGroup(GROUP, "sparkgpt: training round " + round, false);
        try {
            return fit.getAsDouble();
        } finally {
            jsc.clearJobGroup();
        }
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        if (GROUP.equals(job.properties() == null ? null : job.properties().getProperty("spark.jobGroup.id"))) {
            for (Object stage : JavaConverters.seqAsJavaList(job.stageIds())) {
                roundStages.add((Integer) stage);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd task) {
        if (task.taskMetrics() != null && roundStages.contains(task.stageId())) {
            bytes.addAndGet(task.taskMetrics().resultSize());
        }
    }

    /** Result bytes received in all rounds so far, once Spark's listener bus has delivered their events. */
    long bytes() {
        try {
            sc.listenerBus().waitUntilEmpty(30_000); // internal API (public in the bytecode), as Spark's tests use it
        } catch (TimeoutException e) {
            // a busy bus: the count may miss the last round's last tasks
        }
        return bytes.get();
    }

    void stop() {
        sc.removeSparkListener(this);
    }
}
