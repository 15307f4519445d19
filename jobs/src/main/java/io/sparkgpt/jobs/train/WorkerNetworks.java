package io.sparkgpt.jobs.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * The networks an executor JVM keeps between averaging rounds, one per concurrently running
 * task of the current training run. A task borrows one at the start of its round and gives it
 * back at the end; a task that fails just loses its network (the next round builds one).
 * Networks of an earlier run in the same JVM are dropped when a new run starts borrowing. A network
 * whose memory blocks still show (sharded averaging stores a worker's slices as views of it) is
 * pinned by their names and not lent until they are gone.
 */
final class WorkerNetworks {
    private static String currentRun = "";
    private static final Deque<Idle> IDLE = new ArrayDeque<>();

    private record Idle(ComputationGraph net, List<String> pins) {
    }

    private WorkerNetworks() {
    }

    /** An idle network of this run, or null if there is none (the caller builds one). */
    static synchronized ComputationGraph borrow(String run) {
        if (!run.equals(currentRun)) {
            IDLE.clear();
            currentRun = run;
        }
        for (Iterator<Idle> it = IDLE.iterator(); it.hasNext(); ) {
            Idle idle = it.next();
            if (idle.pins().stream().noneMatch(SparkBlocks::holds)) {
                it.remove();
                return idle.net();
            }
        }
        return null;
    }

    static void giveBack(String run, ComputationGraph net) {
        giveBack(run, net, List.of());
    }

    /** Gives back a network not to be lent while any of the blocks {@code pins} is in this JVM. */
    static synchronized void giveBack(String run, ComputationGraph net, List<String> pins) {
        if (run.equals(currentRun)) {
            IDLE.push(new Idle(net, pins));
        }
    }
}
