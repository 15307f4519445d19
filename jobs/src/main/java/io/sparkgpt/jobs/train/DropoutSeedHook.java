package io.sparkgpt.jobs.train;

import io.sparkgpt.model.GptNetwork;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Runs on the workers before every minibatch: seeds dropout with (run seed, iteration, worker),
 * so each worker draws its own masks and a resumed run draws the masks the interrupted one would
 * have. The worker is the partition of the round, which the round plan fixes.
 */
final class DropoutSeedHook implements TrainingHook {
    private final long seed;

    DropoutSeedHook(long seed) {
        this.seed = seed;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        seed(model);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        seed(model);
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
    }

    private void seed(Model model) {
        TaskContext task = TaskContext.get();
        seed((ComputationGraph) model, seed, task == null ? 0 : task.partitionId());
    }

    /** Seeds the dropout of worker {@code worker}'s next minibatch in run {@code seed}. */
    static void seed(ComputationGraph net, long seed, int worker) {
        seed(net, seed, worker, 0);
    }

    /** As {@link #seed(ComputationGraph, long, int)} for sequences {@code firstSequence ..} of the step's batch. */
    static void seed(ComputationGraph net, long seed, int worker, long firstSequence) {
        long iteration = net.getConfiguration().getIterationCount();
        GptNetwork.setDropoutSeed(net, RoundPlan.mix(RoundPlan.mix(seed, iteration), worker), firstSequence);
    }
}
