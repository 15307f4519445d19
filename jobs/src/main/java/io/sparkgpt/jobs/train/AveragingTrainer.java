package io.sparkgpt.jobs.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/** dl4j-spark parameter averaging across the executors, with workers that keep their network. */
final class AveragingTrainer implements RoundTrainer {
    private final SparkComputationGraph sparkNet;

    AveragingTrainer(JavaSparkContext jsc, ComputationGraph net, TrainConfig config, int workers, WorkerTimes times) {
        ResultSize.require(jsc.getConf(), net.numParams() + net.getUpdater().getStateViewArray().length(),
                Float.BYTES, workers, config.aggregationDepth());
        this.sparkNet = new SparkComputationGraph(jsc, net, master(config, workers, times));
    }

    @Override
    public double fit(JavaRDD<DataSet> round) {
        sparkNet.fit(round);
        return sparkNet.getScore();
    }

    @Override
    public ComputationGraph network() {
        return sparkNet.getNetwork();
    }

    private static ParameterAveragingTrainingMaster master(TrainConfig config, int workers, WorkerTimes times) {
        // Our round RDD is already one partition a worker, in order: never repartition it.
        var builder = new ParameterAveragingTrainingMaster.Builder(workers, config.batchSizePerWorker())
                .batchSizePerWorker(config.batchSizePerWorker())
                .averagingFrequency(config.averagingFrequency())
                .workerPrefetchNumBatches(config.workerPrefetch())
                .aggregationDepth(config.aggregationDepth())
                .repartionData(Repartition.Never)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(null)
                .saveUpdater(true)
                .rngSeed(config.seed())
                .trainingHooks(new DropoutSeedHook(config.seed()));
        return new ReusingTrainingMaster(builder, times);
    }
}
