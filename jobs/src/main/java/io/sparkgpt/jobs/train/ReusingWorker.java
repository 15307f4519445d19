package io.sparkgpt.jobs.train;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collection;

/** A parameter-averaging worker that loads each round's state into a kept network; see {@link ReusingTrainingMaster}. */
final class ReusingWorker extends ParameterAveragingTrainingWorker {
    private final Broadcast<NetBroadcastTuple> broadcast;
    private final String run;
    private final WorkerTimes times;
    private transient long computeStarted;

    ReusingWorker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
                  Collection<TrainingHook> hooks, String run, WorkerTimes times) {
        super(broadcast, saveUpdater, configuration, hooks, null, null);
        this.broadcast = broadcast;
        this.run = run;
        this.times = times;
    }

    @Override
    public ComputationGraph getInitialModelGraph() {
        NetBroadcastTuple round = broadcast.getValue(); // the transfer: counted as sync, not setup
        long started = System.nanoTime();
        ComputationGraph net = WorkerNetworks.borrow(run);
        if (net == null) {
            net = build(round);
            times.built.add(1);
        } else {
            load(net, round);
        }
        computeStarted = System.nanoTime();
        times.initNanos.add(computeStarted - started);
        return net;
    }

    /**
     * A network for the round, built the way a checkpoint is restored. Not the stock worker's
     * way ({@code init(params)} then {@code new ComputationGraphUpdater(net, state)}): a network
     * made so takes different Adam steps from the one it was copied from (measured: loss 10.629
     * vs 10.655 one step later, see ReusingWorkerTest), so a resumed run would drift.
     */
    static ComputationGraph build(NetBroadcastTuple round) {
        ComputationGraph net = new ComputationGraph(round.getGraphConfiguration().clone());
        net.init();
        load(net, round);
        return net;
    }

    /** Loads the round's parameters, Adam's moments and counters into a network of the run. */
    static void load(ComputationGraph net, NetBroadcastTuple round) {
        net.setParams(round.getParameters());
        INDArray updaterState = net.getUpdater().getStateViewArray();
        if (round.getUpdaterState() != null && updaterState != null) {
            updaterState.assign(round.getUpdaterState());
        }
        net.getConfiguration().setIterationCount(round.getGraphConfiguration().getIterationCount());
        net.getConfiguration().setEpochCount(round.getGraphConfiguration().getEpochCount());
        Nd4j.getExecutioner().commit();
    }

    @Override
    public ParameterAveragingTrainingResult getFinalResult(ComputationGraph net) {
        times.computeNanos.add(System.nanoTime() - computeStarted);
        ParameterAveragingTrainingResult live = super.getFinalResult(net);
        // The aggregation sums into these arrays in place, and the network goes back to the pool
        // for the next round: hand over copies.
        INDArray updater = live.getUpdaterState();
        var result = new ParameterAveragingTrainingResult(live.getParameters().dup(),
                updater == null ? null : updater.dup(), live.getScore(), null, null, null);
        WorkerNetworks.giveBack(run, net);
        return result;
    }
}
