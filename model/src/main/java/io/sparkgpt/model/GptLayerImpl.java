package io.sparkgpt.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.DL4JSameDiffMemoryMgr;
import org.deeplearning4j.nn.layers.samediff.SameDiffOutputLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.common.base.Preconditions;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * DL4J's SameDiffOutputLayer with the embedding lookup in front of its graph: the layer's input
 * is token ids [batch, T], the graph's input is their embedding [batch, T, emb] computed by
 * {@link Embeddings}, and the graph's gradient with respect to that input is turned into the
 * gradients of wte and wpe by a scatter-add (see {@link Embeddings} for why not in SameDiff).
 *
 * <p>It swaps the protected {@code input} and {@code paramTable} fields of the DL4J layer around
 * each call of the parent: the parent then runs the graph on embeddings and asks SameDiff only for
 * the gradients of parameters the graph uses. The gradient pass itself is the parent's code with
 * one change (it also returns the logits, so a fit step scores without a second forward pass),
 * and every pass seeds its dropout masks ({@link DropoutSeeds}). Written against DL4J 1.0.0-M2.1.
 */
class GptLayerImpl extends SameDiffOutputLayer {

    /** SameDiff's name of the gradient function DL4J's parent layer creates and runs. */
    private static final String GRAD_FUNCTION = "grad";

    /** Seed of the dropout masks of the following passes; null: derived per step (see {@link #passSeed}). */
    private Long dropoutSeed;
    /** The score computed by the last gradient pass, for the computeScore DL4J calls right after it. */
    private BackpropScore backpropScore;

    /** Graph loss (sum over the batch of per-sequence mean cross-entropy) of a pass on tokens/labels. */
    private record BackpropScore(INDArray tokens, INDArray labels, double lossSum) {
        boolean isFor(INDArray otherTokens, INDArray otherLabels) {
            return tokens.equals(otherTokens) && labels.equals(otherLabels);
        }
    }

    GptLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Every following pass draws its dropout masks from this seed alone (until set again). */
    void setDropoutSeed(long seed) {
        dropoutSeed = seed;
    }

    /**
     * The explicit seed, or else one derived from the network seed and the iteration count
     * (synchronised into the layer at the start of each fit step), so that a plain fit loop gets
     * new masks every step and a network restored with its iteration count draws the same ones.
     */
    private long passSeed() {
        return dropoutSeed != null ? dropoutSeed : DropoutSeeds.mix(conf().getSeed(), getIterationCount());
    }

    private GptConfig gpt() {
        return ((GptLayer) conf().getLayer()).gptConfig();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        backpropScore = null;
        return onEmbeddings(false, () -> super.activate(training, workspaceMgr));
    }

    /**
     * The score of the gradient pass just run on the same data, if any (see {@link #graphGradients});
     * else the graph's loss, recomputed stably from the logits if it is not finite (the fused
     * cross-entropy op returns Infinity when a target's logit is ~104 below its row max).
     */
    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        BackpropScore pending = backpropScore;
        backpropScore = null;                                                       // used at most once
        if (training && pending != null && pending.isFor(input, labels)) {
            return (pending.lossSum() + fullNetRegTerm) / input.size(0);
        }
        double score = onEmbeddings(false, () -> super.computeScore(fullNetRegTerm, training, workspaceMgr));
        if (Double.isFinite(score)) {
            return score;
        }
        INDArray logits = activate(training, workspaceMgr).detach();               // [batch, T, vocab]
        double lossSum = CrossEntropy.sumInPlace(logits.reshape(labels.length(), gpt().vocabSize()), labels)
                / labels.size(1);
        return (lossSum + fullNetRegTerm) / input.size(0);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray tokens = input;
        backpropScore = null;
        Pair<Gradient, INDArray> graphResult = onEmbeddings(true, () -> graphGradients(tokens, workspaceMgr));
        Gradient g = graphResult.getFirst();
        GptConfig c = gpt();
        INDArray wteGrad = gradTable.get(GptParams.TOKEN_EMBEDDING);
        INDArray wpeGrad = gradTable.get(GptParams.POSITION_EMBEDDING);            // null if sinusoidal
        if (!c.tieWeights()) {
            wteGrad.assign(0);                                                      // the lookup is its only use
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            Embeddings.backprop(c, tokens, graphResult.getSecond(), wteGrad, wpeGrad);
        }
        // SameDiff's gradient is of the loss summed over tokens (see GptGraph.lossSumOverBatch):
        // divide every parameter's gradient (the flat view holds them all) by T.
        gradients.divi(tokens.size(1));
        g.gradientForVariable().put(GptParams.TOKEN_EMBEDDING, wteGrad);
        if (wpeGrad != null) {
            g.gradientForVariable().put(GptParams.POSITION_EMBEDDING, wpeGrad);
        }
        // Token ids have no gradient; the input vertex ignores it but DL4J wants an array.
        INDArray dTokens = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, tokens.dataType(), tokens.shape());
        return new Pair<>(g, dTokens.assign(0));
    }

    /**
     * Runs a parent method with input = embeddings and paramTable = the graph's parameters, after
     * seeding the dropout of the graph it runs: the gradient function for backprop, else the graph.
     */
    private <T> T onEmbeddings(boolean backprop, Supplier<T> parentCall) {
        INDArray tokens = input;
        Map<String, INDArray> all = paramTable;
        GptConfig c = gpt();
        INDArray embedded;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            embedded = Embeddings.embed(c, all, tokens);                            // [batch, T, emb]
        }
        input = embedded;
        try {
            if (sameDiff == null) {
                doInit();                                                           // binds every parameter array
            }
            if (c.dropRate() > 0) {
                DropoutSeeds.apply(backprop ? gradFunction() : sameDiff, passSeed());
            }
            Map<String, INDArray> used = new LinkedHashMap<>();
            all.forEach((name, array) -> {
                if (GptParams.inGraph(c, name)) {
                    used.put(name, array);
                }
            });
            paramTable = used;
            return parentCall.get();
        } finally {
            paramTable = all;
            input = tokens;
        }
    }

    /**
     * The parent's backpropGradient (DL4J 1.0.0-M2.1), except that the gradient pass also returns
     * the logits, from which the score is computed now: DL4J otherwise scores each step in a second
     * full forward pass (measured: a third of a mini step). Runs on embeddings (see onEmbeddings).
     */
    private Pair<Gradient, INDArray> graphGradients(INDArray tokens, LayerWorkspaceMgr workspaceMgr) {
        Preconditions.checkState(labels != null, "Cannot execute backprop: labels are not set");
        SameDiff grad = gradFunction();
        InferenceSession session = grad.getSessions().computeIfAbsent(Thread.currentThread().getId(),
                id -> SameDiff.getInferenceFactory().create(grad));
        boolean actGradScopedOut = workspaceMgr.isScopedOut(ArrayType.ACTIVATION_GRAD);
        String wsActGrad = workspaceMgr.getWorkspaceName(ArrayType.ACTIVATION_GRAD);
        Preconditions.checkState(actGradScopedOut || wsActGrad != null,
                "Activation gradients must have a workspace or be scoped out");
        session.setMmgr(new DL4JSameDiffMemoryMgr(workspaceMgr.getWorkspaceName(ArrayType.BP_WORKING_MEM),
                wsActGrad, workspaceMgr.getConfiguration(ArrayType.BP_WORKING_MEM),
                workspaceMgr.getConfiguration(ArrayType.ACTIVATION_GRAD)));

        List<String> gradNames = new ArrayList<>(paramTable.keySet());
        gradNames.add(INPUT_KEY);
        Map<String, INDArray> placeholders = new HashMap<>();
        placeholders.put(INPUT_KEY, input);
        placeholders.put(LABELS_KEY, labels);
        OutAndGrad result = sameDiff.calculateGradientsAndOutputs(placeholders, List.of(GptLayer.LOGIT_ROWS),
                gradNames);
        Gradient g = new DefaultGradient();
        for (String name : paramTable.keySet()) {
            g.gradientForVariable().put(name, gradTable.get(name).assign(result.getGradients().get(name)));
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            // [batch*T, vocab]: the pass is over and nothing else reads them, so exp may overwrite
            // them (a head-sized copy would cost time and, at gpt2-small scale, gigabytes).
            INDArray rows = result.getOutputs().get(GptLayer.LOGIT_ROWS);
            double lossSum = CrossEntropy.sumInPlace(rows, labels) / labels.size(1);
            backpropScore = new BackpropScore(tokens.dup(), labels.dup(), lossSum);
        }
        INDArray dLdIn = result.getGradients().get(INPUT_KEY);
        sameDiff.clearPlaceholders(true);                                          // no out-of-scope arrays kept
        sameDiff.clearOpInputs();
        if (!actGradScopedOut && !dLdIn.data().getParentWorkspace().getId().equals(wsActGrad)) {
            dLdIn = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, dLdIn);
        } else if (actGradScopedOut && dLdIn.isAttached()) {
            dLdIn = dLdIn.detach();
        }
        return new Pair<>(g, dLdIn);
    }

    /** The gradient function, created as the parent would (outside workspaces) so it can be seeded first. */
    private SameDiff gradFunction() {
        if (sameDiff.getFunction(GRAD_FUNCTION) == null) {
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                sameDiff.createGradFunction(INPUT_KEY);
            }
        }
        return sameDiff.getFunction(GRAD_FUNCTION);
    }
}
