package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;

/**
 * The rounds' minibatches, prepared several rounds at a time (one shuffle for up to
 * {@link #MAX_ROUNDS} rounds, at most {@link #MAX_WINDOWS} windows): the driver still holds
 * only window indices, and each round is exactly what {@link RoundPlan} says.
 */
final class RoundData {
    static final int MAX_ROUNDS = 64;
    /** Windows in one shuffle: 16 MB at context 1024 (4 bytes an id). */
    static final int MAX_WINDOWS = 4096;
    private final WindowData windows;
    private final RoundPlan plan;
    private final int workers;
    private final int perWorker;
    private final int batch;
    /** With --sync gradients, the sequences of one step a worker takes (micro-batches x batch); else 0. */
    private final int stepGroup;
    private long first = -1;
    private WindowData.Rounds prepared;

    RoundData(WindowData windows, RoundPlan plan, int workers, int perWorker, int batch) {
        this(windows, plan, workers, perWorker, batch, 0);
    }

    /**
     * {@code stepGroup} > 0 (--sync gradients): each step's global batch is {@code workers} groups
     * of {@code stepGroup} consecutive windows of the plan, worker w's the w-th, so a worker's
     * partition holds its group of every step in step order; else (parameter averaging) worker w
     * takes the w-th contiguous run of the round.
     */
    RoundData(WindowData windows, RoundPlan plan, int workers, int perWorker, int batch, int stepGroup) {
        this.stepGroup = stepGroup;
        this.windows = windows;
        this.plan = plan;
        this.workers = workers;
        this.perWorker = perWorker;
        this.batch = batch;
    }

    /** Round r's minibatches, one partition a worker; {@code remaining} rounds (r included) are left in the run. */
    JavaRDD<DataSet> round(long r, long remaining) {
        if (prepared == null || r < first || r >= first + prepared.count()) {
            long ahead = Math.min(remaining, Math.max(1, Math.min(MAX_ROUNDS, MAX_WINDOWS / plan.perRound())));
            List<int[]> rounds = new ArrayList<>();
            for (long k = r; k < r + ahead; k++) {
                rounds.add(stepGroup > 0 ? byWorker(plan.round(k)) : plan.round(k));
            }
            prepared = windows.rounds(rounds, workers, perWorker, batch);
            first = r;
        }
        return prepared.round((int) (r - first));
    }

    /** The round's windows reordered worker by worker: worker w's group of step 0, of step 1, ... */
    private int[] byWorker(int[] round) {
        int[] out = new int[round.length];
        int steps = perWorker / stepGroup;
        for (int k = 0; k < steps; k++) {
            for (int w = 0; w < workers; w++) {
                System.arraycopy(round, (k * workers + w) * stepGroup, out, w * perWorker + k * stepGroup, stepGroup);
            }
        }
        return out;
    }
}
