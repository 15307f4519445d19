package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Trains the driver's network on one averaging round: the round's RDD holds one partition a
 * worker, each worker's minibatches in order. After {@link #fit}, {@link #network()} holds the
 * round's result, the network the driver evaluates and checkpoints.
 */
interface RoundTrainer {

    /** Trains on the round; returns the loss of its last minibatch (averaged over the workers). */
    double fit(JavaRDD<DataSet> round);

    ComputationGraph network();

    /**
     * Parameter averaging for two workers or more. One worker trains in the driver: averaging
     * over one worker is a no-op, and shipping the whole state to an executor and back every
     * round costs two more copies of it (GPT-2 small: 1.9 GB each way) for nothing.
     */
    static RoundTrainer of(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers,
                           WorkerTimes times) {
        return workers == 1 ? new DriverTrainer(net, config.seed(), times)
                : new AveragingTrainer(jsc, net, config, workers, times);
    }
}
