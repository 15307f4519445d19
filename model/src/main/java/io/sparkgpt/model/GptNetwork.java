package io.sparkgpt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;


/**
 * Builds the GPT as a DL4J {@link ComputationGraph} (input "tokens" -> one {@link GptLayer} "gpt")
 * that dl4j-spark's ParameterAveragingTrainingMaster can train, and runs it for inference.
 *
 * <p>Training data: features = token ids [batch, T] as floats, labels = next-token ids [batch, T].
 * {@code net.score()} after fit is the mean next-token cross-entropy (with dropout); use
 * {@link #loss} and {@link #logits} for evaluation and generation, which run without dropout.
 */
public final class GptNetwork {

    public static final String INPUT = "tokens";
    public static final String LAYER = "gpt";
    /** The default updater of {@link #build(GptConfig, long)}: Adam at the book's chapter-5 rate. */
    public static final double DEFAULT_LEARNING_RATE = 4e-4;

    private GptNetwork() {
    }

    /** Float32 network with Adam(4e-4) and no weight decay; replace the updater as needed. */
    public static ComputationGraph build(GptConfig config, long seed) {
        return build(config, seed, new Adam(DEFAULT_LEARNING_RATE));
    }

    public static ComputationGraph build(GptConfig config, long seed, IUpdater updater) {
        return build(config, seed, updater, 0.0, DataType.FLOAT);
    }

    /** As {@link #build(GptConfig, long, IUpdater, double, double, DataType)} without gradient clipping. */
    public static ComputationGraph build(GptConfig config, long seed, IUpdater updater, double weightDecay,
                                         DataType dtype) {
        return build(config, seed, updater, weightDecay, 0.0, dtype);
    }

    /**
     * @param weightDecay decoupled weight decay (DL4J WeightDecay, scaled by the learning rate) on
     *                    weight matrices and embeddings only, not on biases and LayerNorm params
     * @param gradClip    global-norm gradient clipping threshold (nanoGPT's grad_clip), 0 = off: when
     *                    the L2 norm of the whole (batch-mean) gradient exceeds it, the gradient is
     *                    scaled to that norm before the updater and weight decay. DL4J's ClipL2PerLayer
     *                    is exactly this here, the whole GPT being one layer whose gradient view holds
     *                    every parameter (checked against BaseMultiLayerUpdater.preApply of M2.1).
     * @param dtype       FLOAT for training; DOUBLE for gradient checks
     */
    public static ComputationGraph build(GptConfig config, long seed, IUpdater updater, double weightDecay,
                                         double gradClip, DataType dtype) {
        return build(config, seed, updater, weightDecay, gradClip, dtype, Trainable.ALL);
    }

    /** As above, training only the {@code trainable} parameters (fine-tuning); the others are frozen. */
    public static ComputationGraph build(GptConfig config, long seed, IUpdater updater, double weightDecay,
                                         double gradClip, DataType dtype, Trainable trainable) {
        if (!(gradClip >= 0)) {
            throw new IllegalArgumentException("gradClip " + gradClip + " must be >= 0 (0 = off)");
        }
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dtype)
                .updater(updater);
        if (weightDecay > 0) {
            b.weightDecay(weightDecay, true).weightDecayBias(0.0, true);
        }
        if (gradClip > 0) {
            b.gradientNormalization(GradientNormalization.ClipL2PerLayer).gradientNormalizationThreshold(gradClip);
        }
        ComputationGraphConfiguration conf = b.graphBuilder()
                .addInputs(INPUT)
                .addLayer(LAYER, new GptLayer(config, trainable), INPUT)
                .setOutputs(LAYER)
                .build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /**
     * Seeds the dropout of the network's following forward/backward passes: from then on each
     * dropout mask is a pure function of (seed, dropout site, element position), so two networks
     * with equal parameters, data and seed take bit-identical steps. Set it before every training
     * step (e.g. seed = f(run seed, iteration, worker)); a seed left unchanged repeats its masks.
     * Never set, the masks derive from the build seed and the iteration count, which also makes
     * a network restored with its iteration count continue exactly.
     */
    public static void setDropoutSeed(ComputationGraph net, long seed) {
        setDropoutSeed(net, seed, 0);
    }

    /**
     * As {@link #setDropoutSeed(ComputationGraph, long)} for a minibatch that is sequences
     * {@code firstSequence ..} of a larger global batch: its masks are those the same sequences
     * get when the whole global batch is one pass (data-parallel gradient workers, micro-batches).
     */
    public static void setDropoutSeed(ComputationGraph net, long seed, long firstSequence) {
        if (firstSequence < 0) {
            throw new IllegalArgumentException("firstSequence " + firstSequence + " must not be negative");
        }
        layer(net).setDropoutSeed(seed, firstSequence);
    }

    /** The config of a network built by this class. */
    public static GptConfig config(ComputationGraph net) {
        return ((GptLayer) net.getLayer(LAYER).conf().getLayer()).gptConfig();
    }

    /** Logits [batch, T, vocab] for token ids [batch, T] (any T up to context_length), no dropout. */
    public static INDArray logits(ComputationGraph net, INDArray tokens) {
        checkTokens(net, tokens);
        return layer(net).logits(tokens);
    }

    /**
     * Mean next-token cross-entropy of targets [batch, T] given inputs [batch, T], no dropout;
     * logsumexp - target logit with the row max subtracted, so finite for any finite logits.
     */
    public static double loss(ComputationGraph net, INDArray inputs, INDArray targets) {
        checkTokens(net, inputs);
        if (!java.util.Arrays.equals(inputs.shape(), targets.shape())) {
            throw new IllegalArgumentException("targets shape " + java.util.Arrays.toString(targets.shape())
                    + " differs from inputs shape " + java.util.Arrays.toString(inputs.shape()));
        }
        return layer(net).meanLoss(inputs, targets);
    }

    /**
     * Each scored position's target and the head's argmax there, as rows {target, predicted}: a
     * classifier's label and predicted class at each sequence's last real token (targets elsewhere
     * are {@link io.sparkgpt.model.engine.CrossEntropyHead#IGNORE}). No dropout.
     */
    public static int[][] scoredPredictions(ComputationGraph net, INDArray inputs, INDArray targets) {
        checkTokens(net, inputs);
        int[][] t = GptLayerImpl.ids(targets);
        INDArray logits = layer(net).logits(inputs);                      // [B, T, head rows]
        int[][] out = new int[Math.toIntExact(GptLayerImpl.scored(t))][];
        int n = 0;
        for (int b = 0; b < t.length; b++) {
            for (int i = 0; i < t[b].length; i++) {
                if (t[b][i] != io.sparkgpt.model.engine.CrossEntropyHead.IGNORE) {
                    out[n++] = new int[] {t[b][i], logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b),
                            org.nd4j.linalg.indexing.NDArrayIndex.point(i)).argMax().getInt(0)};
                }
            }
        }
        return out;
    }

    private static void checkTokens(ComputationGraph net, INDArray tokens) {
        GptConfig c = config(net);
        if (tokens.rank() != 2) {
            throw new IllegalArgumentException("tokens must be [batch, T], got rank " + tokens.rank());
        }
        if (tokens.size(1) > c.contextLength()) {
            throw new IllegalArgumentException("sequence length " + tokens.size(1)
                    + " exceeds context_length " + c.contextLength());
        }
    }

    /**
     * A key/value-cache decoder over the network's parameters (views: it sees later training
     * steps), for generating one sequence token by token; see {@link Generator}.
     */
    public static io.sparkgpt.model.engine.Decoder decoder(ComputationGraph net) {
        return layer(net).decoder();
    }

    private static GptLayerImpl layer(ComputationGraph net) {
        return (GptLayerImpl) net.getLayer(LAYER);
    }
}
