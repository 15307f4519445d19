package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Trains the driver's network on one averaging round: the round's RDD holds one partition a
 * worker, each worker's minibatches in order. After {@link #fit}, {@link #network()} holds the
 * round's result, the network the driver evaluates and checkpoints.
 */
interface RoundTrainer extends AutoCloseable {

    /** Trains on the round; returns the loss of its last minibatch (averaged over the workers). */
    double fit(JavaRDD<DataSet> round);

    ComputationGraph network();

    /** The bytes of one worker's synchronized state: parameters and Adam's moments, 4 bytes a value. */
    default long stateBytes() {
        INDArray updater = network().getUpdater().getStateViewArray();
        return 4 * (network().numParams() + (updater == null ? 0 : updater.length()));
    }

    /** Frees what the trainer holds on the executors. */
    @Override
    default void close() {
    }

    /**
     * One worker trains in the driver: averaging over one worker is a no-op, and shipping the
     * whole state to an executor and back every round costs two more copies of it (GPT-2 small:
     * 1.9 GB each way) for nothing (with --sync gradients: one worker without micro-batches is one
     * process). Two or more: sharded averaging over the block managers
     * ({@code params}), or dl4j-spark's stock parameter averaging through the driver ({@code dl4j}).
     */
    static RoundTrainer of(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers,
                           WorkerTimes times) {
        if (workers == 1 && config.gradAccumulation() == 1) {
            return new DriverTrainer(net, config.seed(), times);
        }
        if (config.sync().equals(TrainConfig.SYNC_GRADIENTS)) {
            return new ShardedGradientTrainer(jsc, net, config, workers, times);
        }
        return config.sync().equals(TrainConfig.SYNC_DL4J) ? new AveragingTrainer(jsc, net, config, workers, times)
                : new ShardedAveragingTrainer(jsc, net, config, workers, times);
    }
}
