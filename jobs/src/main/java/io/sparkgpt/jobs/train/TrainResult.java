package io.sparkgpt.jobs.train;

import java.util.List;

/** What a train run did: steps, tokens, the losses of each evaluation, and where things are. */
public record TrainResult(long steps, long tokensSeen, List<Evaluation> evaluations, List<Double> roundLosses,
                          String lastCheckpoint, String metricsFile, String lossCurve, double seconds,
                          RoundTimes roundTimes, RoundTimes afterFirstRound, String sync, long stateBytes,
                          ConfusionMatrix confusion) {

    /**
     * One evaluation: step, tokens seen, learning rate, train and validation loss; a classifier's
     * train and validation accuracy (NaN for a language model).
     */
    public record Evaluation(long step, long tokensSeen, double lr, double trainLoss, double valLoss,
                             double tokensPerSecond, double trainAccuracy, double valAccuracy) {
        /** A language model's evaluation (no accuracy). */
        public Evaluation(long step, long tokensSeen, double lr, double trainLoss, double valLoss,
                          double tokensPerSecond) {
            this(step, tokensSeen, lr, trainLoss, valLoss, tokensPerSecond, Double.NaN, Double.NaN);
        }

        public double perplexity() {
            return Math.exp(valLoss);
        }

        public boolean hasAccuracy() {
            return !Double.isNaN(trainAccuracy) || !Double.isNaN(valAccuracy);
        }
    }

    /**
     * An averaging round's wall time in the driver's fit, the part of it a worker spent getting
     * its network ready and training (averaged over rounds and workers), and the task-result
     * bytes the driver received a round; with sharded averaging also two parts of the
     * synchronization: a worker loading the averaged state and storing its slices, an average task.
     */
    public record RoundTimes(double fitSeconds, double workerSetupSeconds, double workerTrainingSeconds,
                             long networksBuilt, long driverBytesPerRound, double workerLoadSeconds,
                             double averageSeconds) {
        /** Everything in a round that is not a worker preparing its network or training: the synchronization. */
        public double syncSeconds() {
            return fitSeconds - workerSetupSeconds - workerTrainingSeconds;
        }
    }

    public Evaluation last() {
        return evaluations.get(evaluations.size() - 1);
    }
}
