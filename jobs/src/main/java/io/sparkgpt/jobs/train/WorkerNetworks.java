package io.sparkgpt.jobs.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The networks an executor JVM keeps between averaging rounds, one per concurrently running
 * task of the current training run. A task borrows one at the start of its round and gives it
 * back at the end; a task that fails just loses its network (the next round builds one).
 * Networks of an earlier run in the same JVM are dropped when a new run starts borrowing.
 */
final class WorkerNetworks {
    private static String currentRun = "";
    private static final Deque<ComputationGraph> IDLE = new ArrayDeque<>();

    private WorkerNetworks() {
    }

    /** An idle network of this run, or null if there is none (the caller builds one). */
    static synchronized ComputationGraph borrow(String run) {
        if (!run.equals(currentRun)) {
            IDLE.clear();
            currentRun = run;
        }
        return IDLE.poll();
    }

    static synchronized void giveBack(String run, ComputationGraph net) {
        if (run.equals(currentRun)) {
            IDLE.push(net);
        }
    }
}
