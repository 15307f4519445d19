package io.sparkgpt.jobs.checkpoint;

/**
 * Where training stands: everything besides weights and optimizer state that an exact resume
 * needs. The data order and dropout are derived from {@code seed} and the position, so a resumed
 * run sees the same batches and masks as one that never stopped.
 *
 * @param step           optimizer steps taken
 * @param tokensSeen     input tokens consumed by those steps
 * @param epoch          the epoch the next batch comes from (0-based)
 * @param batchInEpoch   batches of that epoch already consumed
 * @param seed           the run's seed
 * @param bestValLoss    lowest validation loss so far (NaN before the first evaluation)
 * @param bestStep       the step that reached it (-1 before the first evaluation)
 */
public record TrainingState(long step, long tokensSeen, int epoch, long batchInEpoch, long seed,
                            double bestValLoss, long bestStep) {

    public static TrainingState start(long seed) {
        return new TrainingState(0, 0, 0, 0, seed, Double.NaN, -1);
    }
}
