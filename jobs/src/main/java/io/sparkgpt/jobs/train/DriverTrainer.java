package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.LoggerFactory;

import java.util.Iterator;

/**
 * One worker: the driver trains its own network on the round's minibatches, exactly as a
 * parameter-averaging worker would (same minibatches in the same order, same dropout seeds;
 * RoundTrainerTest compares the two). Only the round's minibatches come to the driver, one at a
 * time, never the dataset.
 */
final class DriverTrainer implements RoundTrainer {
    private final ComputationGraph net;
    private final long seed;
    private final WorkerTimes times;

    DriverTrainer(ComputationGraph net, long seed, WorkerTimes times) {
        LoggerFactory.getLogger(DriverTrainer.class)
                .info("one worker: the driver trains the network itself (averaging over one worker is a no-op)");
        this.net = net;
        this.seed = seed;
        this.times = times;
    }

    @Override
    public double fit(JavaRDD<DataSet> round) {
        long started = System.nanoTime();
        Iterator<DataSet> minibatches = round.toLocalIterator();
        while (minibatches.hasNext()) {
            DataSet minibatch = minibatches.next();
            DropoutSeedHook.seed(net, seed, 0);
            net.fit(minibatch);
        }
        times.computeNanos.add(System.nanoTime() - started);
        return net.score();
    }

    @Override
    public ComputationGraph network() {
        return net;
    }
}
