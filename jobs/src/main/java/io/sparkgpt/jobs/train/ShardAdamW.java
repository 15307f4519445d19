package io.sparkgpt.jobs.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

import java.io.Serializable;
import java.nio.FloatBuffer;
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

    /** A shard's parameters and Adam moments, [length] each. */
    record State(INDArray params, INDArray m, INDArray v) {
        static State of(long length) {
            return new State(Nd4j.create(DataType.FLOAT, length), Nd4j.create(DataType.FLOAT, length),
                    Nd4j.create(DataType.FLOAT, length));
        }
    }

    /**
     * One step in place: {@code gradient} (the shard's batch-mean gradient, consumed: its values
     * afterwards are unspecified) times {@code scale} (the clip factor, 1: none), applied to
     * {@code params}, {@code m} and {@code v}, all [length].
     */
    void step(INDArray params, INDArray gradient, INDArray m, INDArray v, double scale, int iteration, int epoch) {
        State s = new State(params, m, v);
        step(s, s, gradient, scale, iteration, epoch);
    }

    /**
     * One step from state {@code before} into {@code after} (the same arrays: in place), {@code before}
     * left as it was otherwise: the bits of the in-place step, at the cost of the in-place step.
     */
    void step(State before, State after, INDArray gradient, double scale, int iteration, int epoch) {
        for (Segment s : segments) {
            if (decoupledDecayOnly(s)) {
                fusedStep(s, before, after, gradient, scale, iteration, epoch);
                continue;
            }
            INDArray p = part(after.params(), s);
            INDArray m = part(after.m(), s);
            INDArray v = part(after.v(), s);
            if (before != after) {
                p.assign(part(before.params(), s));
                m.assign(part(before.m(), s));
                v.assign(part(before.v(), s));
            }
            INDArray g = part(gradient, s);
            if (scale != 1) {
                g.muli(scale);
            }
            double lr = s.adam().getLearningRate(iteration, epoch);
            regularize(s, Regularization.ApplyStep.BEFORE_UPDATER, p, g, lr, iteration, epoch);
            Nd4j.exec(new AdamUpdater(g, v, m, lr, s.adam().getBeta1(), s.adam().getBeta2(),
                    s.adam().getEpsilon(), iteration));
            regularize(s, Regularization.ApplyStep.POST_UPDATER, p, g, lr, iteration, epoch);
            p.subi(g);
        }
    }

    /** Whether the segment's regularization is at most one learning-rate-scaled weight decay (AdamW's). */
    private static boolean decoupledDecayOnly(Segment s) {
        List<Regularization> r = s.regularizations();
        return r.isEmpty() || r.size() == 1 && r.get(0) instanceof WeightDecay w && w.isApplyLR();
    }

    /**
     * The segment's step in one pass over its elements instead of five (scale, {@code adam_updater},
     * the decay's axpy, the subtraction): libnd4j's float arithmetic in its order (moments
     * {@code b1 m + g (1 - b1)} and {@code b2 v + g g (1 - b2)}, the update
     * {@code m epsT / (sqrt(v) + eps)} with {@code epsT = lr sqrt(1 - b2^t) / (1 - b1^t)}, then
     * {@code update += (lr wd) p} and {@code p -= update}), so each element gets the bits the
     * network's own updater gives it (ShardAdamWTest).
     */
    private void fusedStep(Segment s, State before, State after, INDArray gradient, double scale, int iteration,
                           int epoch) {
        double lrD = s.adam().getLearningRate(iteration, epoch);
        float lr = (float) lrD;
        float beta1 = (float) s.adam().getBeta1();
        float beta2 = (float) s.adam().getBeta2();
        float epsilon = (float) s.adam().getEpsilon();
        float t = iteration + 1;
        float beta1T = (float) Math.pow(beta1, t);
        float beta2T = (float) Math.pow(beta2, t);
        float epsilonT = (float) ((lr * (float) Math.sqrt((float) (1.0 - beta2T))) / (1.0 - beta1T));
        if (Float.isNaN(epsilonT) || epsilonT == 0 || Float.isInfinite(epsilonT)) {
            epsilonT = epsilon;
        }
        float decay = s.regularizations().isEmpty() ? 0f : (float) (((WeightDecay) s.regularizations().get(0))
                .getCoeff().valueAt(iteration, epoch) * lrD);
        float clip = (float) scale;
        int at = Math.toIntExact(s.from() - from);
        int n = Math.toIntExact(s.to() - s.from());
        FloatBuffer p = floats(before.params(), at, n);
        FloatBuffer mb = floats(before.m(), at, n);
        FloatBuffer vb = floats(before.v(), at, n);
        FloatBuffer g = floats(gradient, at, n);
        FloatBuffer pOut = floats(after.params(), at, n);
        FloatBuffer mOut = floats(after.m(), at, n);
        FloatBuffer vOut = floats(after.v(), at, n);
        float oneMinusBeta1 = 1 - beta1;
        float oneMinusBeta2 = 1 - beta2;
        boolean scaled = scale != 1;
        boolean decayed = !s.regularizations().isEmpty();
        for (int i = 0; i < n; i++) {
            float gi = scaled ? g.get(i) * clip : g.get(i);
            float mi = beta1 * mb.get(i) + gi * oneMinusBeta1;
            float vi = beta2 * vb.get(i) + gi * gi * oneMinusBeta2;
            float update = (mi * epsilonT) / ((float) Math.sqrt(vi) + epsilon);
            float pi = p.get(i);
            if (decayed) {
                update = decay * pi + update;
            }
            mOut.put(i, mi);
            vOut.put(i, vi);
            pOut.put(i, pi - update);
        }
    }

    private static FloatBuffer floats(INDArray a, int at, int n) {
        return FlatState.bytes(a).asFloatBuffer().slice(at, n);
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
