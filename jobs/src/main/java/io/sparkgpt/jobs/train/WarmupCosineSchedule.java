package io.sparkgpt.jobs.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * nanoGPT's learning-rate schedule: linear warmup from 0 to {@code maxLr} over {@code warmupSteps},
 * then cosine decay to {@code minLr} at {@code decaySteps}, then {@code minLr}. Indexed by DL4J's
 * iteration count, which dl4j-spark advances by the averaging frequency each round, so workers
 * and a resumed run see the same rate at the same step. JSON-serializable (DL4J ships it to
 * workers inside the network configuration).
 */
public final class WarmupCosineSchedule implements ISchedule {
    @JsonProperty
    private final double maxLr;
    @JsonProperty
    private final double minLr;
    @JsonProperty
    private final long warmupSteps;
    @JsonProperty
    private final long decaySteps;

    public WarmupCosineSchedule(@JsonProperty("maxLr") double maxLr, @JsonProperty("minLr") double minLr,
                                @JsonProperty("warmupSteps") long warmupSteps,
                                @JsonProperty("decaySteps") long decaySteps) {
        this.maxLr = maxLr;
        this.minLr = minLr;
        this.warmupSteps = warmupSteps;
        this.decaySteps = decaySteps;
    }

    /** The rate for the update of step {@code iteration} (0-based). */
    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmupSteps) {
            return maxLr * (iteration + 1) / warmupSteps;
        }
        if (iteration >= decaySteps) {
            return minLr;
        }
        double progress = (double) (iteration - warmupSteps) / Math.max(1, decaySteps - warmupSteps);
        return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (maxLr - minLr);
    }

    @Override
    public ISchedule clone() {
        return new WarmupCosineSchedule(maxLr, minLr, warmupSteps, decaySteps);
    }
}
