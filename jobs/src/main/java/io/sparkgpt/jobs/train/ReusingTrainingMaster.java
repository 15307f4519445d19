package io.sparkgpt.jobs.train;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import java.util.UUID;

/**
 * dl4j-spark's parameter averaging, with workers that keep their network between rounds.
 * The stock worker rebuilds the network from its JSON configuration at the start of every
 * round (for the GPT: define the SameDiff graph, allocate parameters, gradients and Adam's
 * moments, then plan the graph again on the first minibatch). {@link ReusingWorker} instead
 * copies the round's averaged parameters and optimizer state into the network it used last
 * round. Everything else (broadcast, aggregation, what is averaged) is dl4j-spark's.
 */
final class ReusingTrainingMaster extends ParameterAveragingTrainingMaster {
    private final String run = UUID.randomUUID().toString();
    private final WorkerTimes times;

    ReusingTrainingMaster(Builder builder, WorkerTimes times) {
        super(builder);
        this.times = times;
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        ComputationGraph net = graph.getNetwork();
        NetBroadcastTuple tuple = new NetBroadcastTuple(net.getConfiguration(), net.params(),
                net.getUpdater().getStateViewArray());
        Broadcast<NetBroadcastTuple> broadcast = graph.getSparkContext().broadcast(tuple);
        WorkerConfiguration configuration = new WorkerConfiguration(true, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, false);
        return new ReusingWorker(broadcast, saveUpdater, configuration, trainingHookList, run, times);
    }
}
