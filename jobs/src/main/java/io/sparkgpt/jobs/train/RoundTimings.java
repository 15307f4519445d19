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
    private long[] first; // fit, setup, training, load and average nanos, bytes, after the first round
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

    private long[] totals() {
        return new long[]{fit, workerTimes.initNanos.value(), workerTimes.computeNanos.value(), traffic.bytes(),
                workerTimes.loadNanos.value(), workerTimes.averageNanos.value()};
    }

    /** Seconds a round averaged over the run's rounds. */
    TrainResult.RoundTimes round() {
        return times(totals(), new long[6], rounds);
    }

    /** The same over the rounds after the first; null before there are two. */
    TrainResult.RoundTimes afterFirstRound() {
        return rounds < 2 ? null : times(totals(), first, rounds - 1);
    }

    private TrainResult.RoundTimes times(long[] until, long[] since, long count) {
        double perWorkerRound = 1e9 * Math.max(1, count) * workers;
        return new TrainResult.RoundTimes((until[0] - since[0]) / 1e9 / Math.max(1, count),
                (until[1] - since[1]) / perWorkerRound, (until[2] - since[2]) / perWorkerRound,
                workerTimes.built.value(), (until[3] - since[3]) / Math.max(1, count),
                (until[4] - since[4]) / perWorkerRound, (until[5] - since[5]) / perWorkerRound);
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
