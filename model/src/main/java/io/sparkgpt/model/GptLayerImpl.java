package io.sparkgpt.model;

import io.sparkgpt.model.engine.Buf;
import io.sparkgpt.model.engine.CrossEntropyHead;
import io.sparkgpt.model.engine.Decoder;
import io.sparkgpt.model.engine.Dropout;
import io.sparkgpt.model.engine.GptEngine;
import io.sparkgpt.model.engine.Tensors;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * The DL4J side of the GPT layer: hands DL4J's parameter and gradient views to the
 * {@link GptEngine}, which computes forward, loss and backward in one pass and writes the
 * gradient straight into the flat gradient view DL4J's updater (Adam) reads.
 *
 * <p>DL4J's contract (1.0.0-M2.1): backprop returns the gradient of the loss summed over the
 * batch's sequences (the updater divides by the batch size); the score DL4J asks for right after
 * is that sum divided by the batch size. Each sequence's loss is its mean next-token
 * cross-entropy, so the score is the book's mean over all batch*T tokens.
 */
class GptLayerImpl extends BaseLayer<GptLayer> implements IOutputLayer {

    private INDArray labels;
    /** Seed of the dropout masks of the following passes; null: derived per step (see {@link #passSeed}). */
    private Long dropoutSeed;
    /** The following passes' first sequence in their step's global batch (their dropout masks' place). */
    private long firstSequence;
    /** The loss of the last backprop pass and the data it ran on, for the computeScore DL4J calls next. */
    private transient PassScore lastPass;
    private transient GptEngine engine;
    /** A second engine for evaluation and generation, so their shapes do not resize training's buffers. */
    private transient GptEngine inferenceEngine;
    /** The engine's views of DL4J's parameter and gradient arrays, rebuilt only if DL4J swaps them. */
    private transient Tensors paramViews;
    private transient Tensors gradViews;

    /** Identity, not equality: DL4J scores the very arrays it just backpropagated, and a copy would allocate. */
    private record PassScore(INDArray tokens, INDArray labels, double sequenceLossSum) {
        boolean isFor(INDArray t, INDArray l) {
            return tokens == t && labels == l;
        }
    }

    GptLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Every following pass draws its dropout masks from this seed alone (until set again). */
    void setDropoutSeed(long seed, long firstSequence) {
        dropoutSeed = seed;
        this.firstSequence = firstSequence;
    }

    /**
     * The explicit seed, or else one derived from the network seed and the iteration count, so a
     * plain fit loop gets new masks every step and a network restored with its iteration count
     * draws the same ones.
     */
    private long passSeed() {
        return dropoutSeed != null ? dropoutSeed : Dropout.mix(conf().getSeed(), getIterationCount());
    }

    GptConfig gpt() {
        return layerConf().gptConfig();
    }

    /** The training engine, created on first use (it is not serialisable and sized by the data). */
    private GptEngine engine() {
        if (engine == null) {
            engine = newEngine();
        }
        return engine;
    }

    private GptEngine newEngine() {
        GptEngine e = new GptEngine(gpt(), paramsFlattened.dataType(), sinusoid());
        e.setFirstTrainedBlock(layerConf().trainableParams().firstTrainedBlock(gpt()));
        return e;
    }

    /** A key/value-cache decoder over this layer's parameters (generation). */
    Decoder decoder() {
        return new Decoder(gpt(), paramTensors(), sinusoid(), Buf.allocator(paramsFlattened.dataType()));
    }

    /** The fixed sinusoidal position table [context, C], or null for learned positions. */
    private Buf sinusoid() {
        GptConfig c = gpt();
        DataType dtype = paramsFlattened.dataType();
        return c.position() == GptConfig.Position.SINUSOIDAL
                ? Buf.of(detached(() -> SinusoidalPositions.table(c.contextLength(), c.embDim(), dtype).dup()))
                : null;
    }

    private GptEngine inferenceEngine() {
        if (inferenceEngine == null) {
            inferenceEngine = newEngine();
        }
        return inferenceEngine;
    }

    /** Logits [batch, T, vocab] of token ids [batch, T], no dropout (evaluation, generation). */
    synchronized INDArray logits(INDArray tokens) {
        INDArray out = detached(() -> Nd4j.create(paramsFlattened.dataType(), tokens.size(0), tokens.size(1),
                gpt().headRows()));
        inferenceEngine().logits(paramTensors(), ids(tokens), Buf.of(out));
        return out;
    }

    /** Mean cross-entropy over the scored positions (all batch*T for a language model), no dropout. */
    synchronized double meanLoss(INDArray tokens, INDArray targets) {
        int[][] t = ids(targets);
        return inferenceEngine().loss(paramTensors(), ids(tokens), t, false, 0, 0) / scored(t);
    }

    /** Targets that are scored (not {@link CrossEntropyHead#IGNORE}): batch*T, or one a sequence for a classifier. */
    static long scored(int[][] targets) {
        long n = 0;
        for (int[] row : targets) {
            for (int id : row) {
                n += id == CrossEntropyHead.IGNORE ? 0 : 1;
            }
        }
        return n;
    }

    Tensors paramTensors() {
        if (paramViews == null || !paramViews.isOver(params)) {
            paramViews = Tensors.of(params);
        }
        return paramViews;
    }

    private Tensors gradientTensors() {
        if (gradViews == null || !gradViews.isOver(gradientViews)) {
            gradViews = Tensors.of(gradientViews);
        }
        return gradViews;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (labels == null) {
            throw new IllegalStateException("the GPT layer needs labels (next-token ids) to backpropagate");
        }
        int[][] targets = ids(labels);
        double perSequence = (double) scored(targets) / input.size(0);  // T, or 1 for a classifier
        double tokenLossSum = engine().lossAndGradients(paramTensors(), gradientTensors(), ids(input),
                targets, passSeed(), firstSequence, 1.0 / perSequence);
        lastPass = new PassScore(input, labels, tokenLossSum / perSequence);
        Gradient g = new DefaultGradient(gradientsFlattened);
        gradientViews.forEach(g.gradientForVariable()::put);                      // for DL4J's clipping
        return new Pair<>(g, null);                                                 // token ids have no gradient
    }

    /** The last backprop pass's loss if it ran on this data; else a forward pass (dropout if training). */
    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        PassScore pass = lastPass;
        lastPass = null;                                                            // used at most once
        double sequenceLossSum;
        if (training && pass != null && pass.isFor(input, labels)) {
            sequenceLossSum = pass.sequenceLossSum();
        } else {
            int[][] targets = ids(labels);
            sequenceLossSum = engine().loss(paramTensors(), ids(input), targets, training, passSeed(), firstSequence)
                    / ((double) scored(targets) / input.size(0));
        }
        score = (sequenceLossSum + fullNetRegTerm) / input.size(0);
        return score;
    }

    /** Logits [batch, T, vocab] without dropout, outside workspaces (what net.output() returns). */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        return logits(input);
    }

    static int[][] ids(INDArray tokens) {
        if (tokens.rank() != 2) {
            throw new IllegalArgumentException("token ids must be [batch, T], got rank " + tokens.rank());
        }
        int[][] ids = new int[(int) tokens.size(0)][(int) tokens.size(1)];
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < ids[b].length; t++) {
                ids[b][t] = (int) tokens.getDouble(b, t);   // element reads: toIntMatrix() creates ~50 ND4J buffers
            }
        }
        return ids;
    }

    private static INDArray detached(java.util.function.Supplier<INDArray> create) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return create.get();
        }
    }

    /**
     * 0: the decay is decoupled (AdamW's, applied by the updater), not a penalty in the loss, so
     * the score is the cross-entropy alone, as the book, nanoGPT and PyTorch report it. DL4J's
     * BaseLayer would add 0.5 * wd * |w|^2, which dwarfs the loss of a GPT at init.
     */
    @Override
    public double calcRegularizationScore(boolean backpropParamsOnly) {
        return 0;
    }

    @Override
    public void setParams(INDArray params) {
        paramsFlattened.assign(params.reshape(paramsFlattened.shape()));
    }

    @Override
    public boolean needsLabels() {
        return true;
    }

    @Override
    public void setLabels(INDArray labels) {
        this.labels = labels;
    }

    @Override
    public INDArray getLabels() {
        return labels;
    }

    @Override
    public void clear() {
        super.clear();
        labels = null;
        lastPass = null;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return false;
    }

    @Override
    public Type type() {
        return Type.RECURRENT;
    }

    // DL4J's per-example scoring, layer-level fitting and classifier API do not apply to a language
    // model trained inside a ComputationGraph: fail loudly rather than run BaseLayer's W/b code.

    @Override
    public INDArray computeScoreForExamples(double fullNetRegTerm, LayerWorkspaceMgr workspaceMgr) {
        throw unsupported("computeScoreForExamples");
    }

    @Override
    public void computeGradientAndScore(LayerWorkspaceMgr workspaceMgr) {
        throw unsupported("layer-level computeGradientAndScore (use the ComputationGraph)");
    }

    @Override
    public void fit(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        throw unsupported("layer-level fit (use the ComputationGraph)");
    }

    @Override
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr workspaceMgr) {
        throw unsupported("preOutput");
    }

    @Override
    public double f1Score(DataSet data) {
        throw unsupported("f1Score");
    }

    @Override
    public double f1Score(INDArray examples, INDArray labels) {
        throw unsupported("f1Score");
    }

    @Override
    public int numLabels() {
        return gpt().headRows();
    }

    @Override
    public void fit(org.nd4j.linalg.dataset.api.iterator.DataSetIterator iter) {
        throw unsupported("layer-level fit");
    }

    @Override
    public int[] predict(INDArray examples) {
        throw unsupported("predict (use Generator)");
    }

    @Override
    public List<String> predict(DataSet dataSet) {
        throw unsupported("predict (use Generator)");
    }

    @Override
    public void fit(INDArray examples, INDArray labels) {
        throw unsupported("layer-level fit");
    }

    @Override
    public void fit(DataSet data) {
        throw unsupported("layer-level fit");
    }

    @Override
    public void fit(INDArray examples, int[] labels) {
        throw unsupported("layer-level fit");
    }

    private static UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException(what + " is not supported by the GPT layer");
    }
}
