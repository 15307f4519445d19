package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * Where the rounds' time went, on the driver and (summed over, through Spark accumulators) the
 * workers, for the whole run and for the rounds after the first (which also pays for building
 * the workers' networks and warming up their JVMs).
 */
final class RoundTimings {
    private final WorkerTimes workerTimes;
    private final int workers;
    private final DriverTraffic traffic;
    private final JavaSparkContext jsc;
    private long fit;
    private long rounds;
    private Totals first; // after the first round
    long eval;
    long checkpoint;

    RoundTimings(WorkerTimes workerTimes, int workers, DriverTraffic traffic, JavaSparkContext jsc) {
        this.workerTimes = workerTimes;
        this.workers = workers;
        this.traffic = traffic;
        this.jsc = jsc;
    }

    DriverTraffic traffic() {
        return traffic;
    }

    JavaSparkContext jsc() {
        return jsc;
    }

    void roundDone(long fitNanos) {
        fit += fitNanos;
        rounds++;
        if (rounds == 1) {
            first = totals();
        }
    }

    /** The run's sums so far: the driver's fit nanos, the workers' accumulated nanos, the driver's bytes. */
    private record Totals(long fit, long setup, long training, long load, long average, long bytes) {
        Totals minus(Totals o) {
            return new Totals(fit - o.fit, setup - o.setup, training - o.training, load - o.load,
                    average - o.average, bytes - o.bytes);
        }
    }

    private Totals totals() {
        return new Totals(fit, workerTimes.initNanos.value(), workerTimes.computeNanos.value(),
                workerTimes.loadNanos.value(), workerTimes.averageNanos.value(), traffic.bytes());
    }

    /** Seconds a round averaged over the run's rounds. */
    TrainResult.RoundTimes round() {
        return times(totals(), rounds);
    }

    /** The same over the rounds after the first; null before there are two. */
    TrainResult.RoundTimes afterFirstRound() {
        return rounds < 2 ? null : times(totals().minus(first), rounds - 1);
    }

    private TrainResult.RoundTimes times(Totals t, long count) {
        double perRound = 1e9 * Math.max(1, count);
        double perWorkerRound = perRound * workers;
        return new TrainResult.RoundTimes(t.fit() / perRound, t.setup() / perWorkerRound,
                t.training() / perWorkerRound, workerTimes.built.value(), t.bytes() / Math.max(1, count),
                t.load() / perWorkerRound, t.average() / perWorkerRound);
    }

    String line() {
        TrainResult.RoundTimes r = round();
        return String.format("time: %.2f s a round (%d rounds) = worker setup %.2f s + worker training "
                + "%.2f s + %.2f s synchronizing (%d worker networks built; the driver received %,d bytes of "
                + "task results a round); %.1f s evaluating, %.1f s checkpointing", r.fitSeconds(), rounds,
                r.workerSetupSeconds(), r.workerTrainingSeconds(), r.syncSeconds(), r.networksBuilt(),
                r.driverBytesPerRound(), eval / 1e9, checkpoint / 1e9);
    }
}
