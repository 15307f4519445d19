package io.sparkgpt.jobs.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * DL4J's Adam step with decoupled weight decay, applied to one shard [from, to) of the flat
 * parameter vector: what the network's own updater does to those elements, element by element
 * (the same ND4J ops in the same order: the regularizations before the updater, Adam's
 * {@code adam_updater} op, the decay after it, then {@code params -= update}), so N shard owners
 * together take exactly one process's step. Built from the network's updater blocks: each
 * segment is a run of elements with one Adam config and one regularization list (weight decay on
 * matrices and embeddings only, as the network declares).
 * <p>
 * A shard's moments are [m of the shard, v of the shard]; {@link #toNetwork} and
 * {@link #fromNetwork} map them to and from DL4J's updater state (per block [m, v]), the layout
 * checkpoints keep, so a run resumes on any number of workers.
 */
final class ShardAdamW implements Serializable {
    /** Elements [from, to) of the flat vector; m and v of element i at {@code mAt + i - from}, {@code vAt + i - from} of DL4J's state. */
    record Segment(long from, long to, Adam adam, List<Regularization> regularizations, long mAt, long vAt)
            implements Serializable {
    }

    private final long from;
    private final long to;
    private final List<Segment> segments;

    private ShardAdamW(long from, long to, List<Segment> segments) {
        this.from = from;
        this.to = to;
        this.segments = segments;
    }

    /** The step of elements [from, to) of {@code net}'s parameters. */
    static ShardAdamW of(ComputationGraph net, long from, long to) {
        List<Segment> out = new ArrayList<>();
        for (UpdaterBlock block : ((BaseMultiLayerUpdater<?>) net.getUpdater()).getUpdaterBlocks()) {
            long blockLength = block.getParamOffsetEnd() - block.getParamOffsetStart();
            for (UpdaterBlock.ParamState param : block.getLayersAndVariablesInBlock()) {
                long s = Math.max(from, param.getParamOffsetStart());
                long e = Math.min(to, param.getParamOffsetEnd());
                IUpdater config = param.getLayer().getConfig().getUpdaterByParam(param.getParamName());
                if (!(config instanceof Adam adam)) {
                    throw new IllegalStateException("--sync gradients shards Adam's state; parameter "
                            + param.getParamName() + " has " + config.getClass().getSimpleName());
                }
                if (s < e) {
                    long inBlock = s - block.getParamOffsetStart();
                    out.add(new Segment(s, e, adam, List.copyOf(param.getLayer().getConfig()
                            .getRegularizationByParam(param.getParamName())),
                            block.getUpdaterViewOffsetStart() + inBlock,
                            block.getUpdaterViewOffsetStart() + blockLength + inBlock));
                }
            }
        }
        long covered = out.stream().mapToLong(s -> s.to() - s.from()).sum();
        if (covered != to - from) {
            throw new IllegalStateException("the updater blocks cover " + covered + " of shard [" + from + ", " + to + ")");
        }
        return new ShardAdamW(from, to, out);
    }

    long length() {
        return to - from;
    }

    /**
     * One step: {@code gradient} (the shard's batch-mean gradient, clipped; overwritten with the
     * update) applied to {@code params}, {@code m} and {@code v}, all [length], in place.
     */
    void step(INDArray params, INDArray gradient, INDArray m, INDArray v, int iteration, int epoch) {
        for (Segment s : segments) {
            INDArray p = part(params, s);
            INDArray g = part(gradient, s);
            double lr = s.adam().getLearningRate(iteration, epoch);
            regularize(s, Regularization.ApplyStep.BEFORE_UPDATER, p, g, lr, iteration, epoch);
            Nd4j.exec(new AdamUpdater(g, part(v, s), part(m, s), lr, s.adam().getBeta1(), s.adam().getBeta2(),
                    s.adam().getEpsilon(), iteration));
            regularize(s, Regularization.ApplyStep.POST_UPDATER, p, g, lr, iteration, epoch);
            p.subi(g);
        }
    }

    private static void regularize(Segment s, Regularization.ApplyStep when, INDArray p, INDArray g, double lr,
                                   int iteration, int epoch) {
        for (Regularization r : s.regularizations()) {
            if (r.applyStep() == when) {
                r.apply(p, g, lr, iteration, epoch);
            }
        }
    }

    private INDArray part(INDArray shard, Segment s) {
        return shard.get(NDArrayIndex.interval(s.from() - from, s.to() - from));
    }

    /** Writes the shard's m and v ([length] each) into DL4J's updater state of the network. */
    void toNetwork(INDArray m, INDArray v, INDArray networkState) {
        for (Segment s : segments) {
            long n = s.to() - s.from();
            networkState.get(NDArrayIndex.interval(s.mAt(), s.mAt() + n)).assign(part(m, s));
            networkState.get(NDArrayIndex.interval(s.vAt(), s.vAt() + n)).assign(part(v, s));
        }
    }

    /** Reads the shard's m and v from DL4J's updater state of the network. */
    void fromNetwork(INDArray networkState, INDArray m, INDArray v) {
        for (Segment s : segments) {
            long n = s.to() - s.from();
            part(m, s).assign(networkState.get(NDArrayIndex.interval(s.mAt(), s.mAt() + n)));
            part(v, s).assign(networkState.get(NDArrayIndex.interval(s.vAt(), s.vAt() + n)));
        }
    }
}
