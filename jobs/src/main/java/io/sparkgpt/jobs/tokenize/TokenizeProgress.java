package io.sparkgpt.jobs.tokenize;

import org.apache.spark.SparkContext;
import org.apache.spark.TaskEndReason;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.io.PrintStream;
import java.util.BitSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The tokenize job's progress line on stderr, every {@value #INTERVAL_SECONDS} s while it runs:
 * shards done of total, MB read, MB/s, ETA. It counts the write job's finished tasks (one a
 * shard) from Spark's listener bus, so it works wherever the tasks run; a shard's bytes are the
 * plan's, or the task's input metrics when Spark itself read them (Parquet input).
 */
final class TokenizeProgress extends SparkListener implements AutoCloseable {
    static final int INTERVAL_SECONDS = 10;
    private static final String JOB_GROUP = "spark.jobGroup.id";

    private final SparkContext sc;
    private final String group;
    private final long[] shardBytes;
    private final int totalShards;
    private final long totalBytes;
    private final long startedNanos = System.nanoTime();
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final BitSet done = new BitSet();
    private final ScheduledExecutorService printer;
    private long bytesDone;

    /**
     * Starts counting the jobs of Spark job group {@code group} (set it before they start).
     * {@code shardBytes} gives partition i's bytes, or is null to take the tasks' input metrics.
     */
    TokenizeProgress(SparkContext sc, String group, int totalShards, long totalBytes, long[] shardBytes,
                     PrintStream out, long intervalMillis) {
        this.sc = sc;
        this.group = group;
        this.shardBytes = shardBytes;
        this.totalShards = totalShards;
        this.totalBytes = totalBytes;
        sc.addSparkListener(this);
        printer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tokenize-progress");
            t.setDaemon(true);
            return t;
        });
        printer.scheduleAtFixedRate(() -> out.println(line((System.nanoTime() - startedNanos) / 1e9)), intervalMillis, intervalMillis,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        if (job.properties() != null && group.equals(job.properties().getProperty(JOB_GROUP))) {
            scala.collection.JavaConverters.seqAsJavaList(job.stageIds()).forEach(id -> stages.add((Integer) id));
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd task) {
        TaskEndReason reason = task.reason();
        if (!stages.contains(task.stageId()) || !(reason instanceof org.apache.spark.Success$)) {
            return;
        }
        int shard = task.taskInfo().index();
        long bytes = shardBytes != null && shard < shardBytes.length ? shardBytes[shard]
                : task.taskMetrics() == null ? 0 : task.taskMetrics().inputMetrics().bytesRead();
        shardDone(shard, bytes);
    }

    /** Counts shard {@code shard} as done, once (a speculative or retried copy adds nothing). */
    synchronized void shardDone(int shard, long bytes) {
        if (!done.get(shard)) {
            done.set(shard);
            bytesDone += bytes;
        }
    }

    /** The line, {@code elapsedSeconds} after the start. */
    synchronized String line(double elapsedSeconds) {
        double mbPerS = bytesDone / 1e6 / Math.max(1e-9, elapsedSeconds);
        String eta = bytesDone == 0 ? "?" : minutesSeconds((totalBytes - bytesDone) / 1e6 / mbPerS);
        return String.format("tokenize: %d/%d shards, %.1f of %.1f MB read, %.1f MB/s, ETA %s", done.cardinality(),
                totalShards, bytesDone / 1e6, totalBytes / 1e6, mbPerS, eta);
    }

    private static String minutesSeconds(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return String.format("%dm%02ds", s / 60, s % 60);
    }

    @Override
    public void close() {
        printer.shutdownNow();
        sc.removeSparkListener(this);
    }
}
