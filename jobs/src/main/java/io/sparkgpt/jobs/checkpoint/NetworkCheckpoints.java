package io.sparkgpt.jobs.checkpoint;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.model.Trainable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * Moves a GPT network in and out of a {@link Checkpoint}: its config, its flat parameter vector
 * and its flat updater (optimizer) state, both in DL4J's own order, plus the iteration count the
 * learning-rate schedule and Adam's bias correction depend on.
 */
public final class NetworkCheckpoints {
    private NetworkCheckpoints() {
    }

    /** A snapshot of the network at the given training state. */
    public static Checkpoint capture(ComputationGraph net, TrainingState state) {
        INDArray updater = net.getUpdater().getStateViewArray();
        return new Checkpoint(GptNetwork.config(net).toJson(), net.params().toFloatVector(),
                updater == null ? new float[0] : updater.toFloatVector(), state);
    }

    /** The network of a checkpoint for inference (generation, evaluation, export): no optimizer. */
    public static ComputationGraph forInference(Checkpoint checkpoint) {
        GptConfig config = GptConfig.fromJson(checkpoint.modelConfigJson());
        ComputationGraph net = GptNetwork.build(config, checkpoint.state().seed(), new NoOp(), 0, DataType.FLOAT);
        net.setParams(Nd4j.createFromArray(checkpoint.parameters()).reshape(1, checkpoint.parameters().length));
        return net;
    }

    /** As {@link #restore(Checkpoint, IUpdater, double, double)} without gradient clipping. */
    public static ComputationGraph restore(Checkpoint checkpoint, IUpdater updater, double weightDecay) {
        return restore(checkpoint, updater, weightDecay, 0);
    }

    /**
     * Rebuilds the network of a checkpoint with the given updater, weight decay and gradient clip
     * (which must be those it was trained with: the updater state's layout depends on them).
     */
    public static ComputationGraph restore(Checkpoint checkpoint, IUpdater updater, double weightDecay,
                                           double gradClip) {
        return restore(checkpoint, updater, weightDecay, gradClip, Trainable.ALL);
    }

    /** As above, for a run that trains only the {@code trainable} parameters (fine-tuning). */
    public static ComputationGraph restore(Checkpoint checkpoint, IUpdater updater, double weightDecay,
                                           double gradClip, Trainable trainable) {
        GptConfig config = GptConfig.fromJson(checkpoint.modelConfigJson());
        ComputationGraph net = GptNetwork.build(config, checkpoint.state().seed(), updater, weightDecay, gradClip,
                DataType.FLOAT, trainable);
        if (net.numParams() != checkpoint.parameters().length) {
            throw new IllegalArgumentException("checkpoint holds " + checkpoint.parameters().length
                    + " parameters but its config builds a network of " + net.numParams());
        }
        net.setParams(Nd4j.createFromArray(checkpoint.parameters()).reshape(1, checkpoint.parameters().length));
        INDArray state = net.getUpdater().getStateViewArray();
        if (state != null) {
            if (state.length() != checkpoint.updaterState().length) {
                throw new IllegalArgumentException("checkpoint holds " + checkpoint.updaterState().length
                        + " optimizer values but this updater needs " + state.length()
                        + ": resume with the optimizer settings the run was trained with");
            }
            state.assign(Nd4j.createFromArray(checkpoint.updaterState()).reshape(state.shape()));
        }
        net.getConfiguration().setIterationCount(Math.toIntExact(checkpoint.state().step()));
        net.getConfiguration().setEpochCount(checkpoint.state().epoch());
        return net;
    }
}
