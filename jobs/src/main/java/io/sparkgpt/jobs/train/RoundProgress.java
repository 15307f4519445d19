package io.sparkgpt.jobs.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;

/**
 * One short line a round, at most every {@code seconds}: step, the round's loss, tokens/s and
 * the ETA. On a terminal the line is rewritten in place (and cleared before an evaluation line);
 * in a log it is one line each. Evaluation lines and metrics.jsonl are unchanged by it.
 */
final class RoundProgress {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);
    private final long intervalNanos;
    private final long totalSteps;
    private final long firstStep;
    private final long startedNanos;
    private final PrintStream terminal;
    private long lastNanos;
    private long tokensSinceLast;
    private boolean showing;

    RoundProgress(double seconds, long totalSteps, long firstStep) {
        this.intervalNanos = (long) (seconds * 1e9);
        this.totalSteps = totalSteps;
        this.firstStep = firstStep;
        this.startedNanos = System.nanoTime();
        this.lastNanos = startedNanos;
        this.terminal = System.console() != null ? System.err : null;
    }

    /** After a round that ended at {@code step} with {@code loss}, having consumed {@code tokens}. */
    void round(long step, double loss, long tokens) {
        tokensSinceLast += tokens;
        long now = System.nanoTime();
        if (now - lastNanos < intervalNanos && step < totalSteps) {
            return;
        }
        double rate = tokensSinceLast / Math.max(1e-9, (now - lastNanos) / 1e9);
        double stepsPerSecond = (step - firstStep) / Math.max(1e-9, (now - startedNanos) / 1e9);
        long eta = (long) ((totalSteps - step) / Math.max(1e-9, stepsPerSecond));
        String line = String.format("step %d/%d | round loss %.3f | %,.0f tokens/s | ETA %dm%02ds", step, totalSteps,
                loss, rate, eta / 60, eta % 60);
        if (terminal != null) {
            terminal.print("\r" + line + "\033[K");
            terminal.flush();
            showing = true;
        } else {
            LOG.info(line);
        }
        lastNanos = now;
        tokensSinceLast = 0;
    }

    /** Clears the in-place line before other output (a terminal only). */
    void clear() {
        if (showing) {
            terminal.print("\r\033[K");
            terminal.flush();
            showing = false;
        }
    }
}
