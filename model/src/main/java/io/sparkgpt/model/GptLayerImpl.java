package io.sparkgpt.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffOutputLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
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
 * the gradients of parameters the graph uses. Written against DL4J 1.0.0-M2.1.
 */
class GptLayerImpl extends SameDiffOutputLayer {

    GptLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private GptConfig gpt() {
        return ((GptLayer) conf().getLayer()).gptConfig();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        return onEmbeddings(() -> super.activate(training, workspaceMgr));
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        return onEmbeddings(() -> super.computeScore(fullNetRegTerm, training, workspaceMgr));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray tokens = input;
        Pair<Gradient, INDArray> graphResult = onEmbeddings(() -> super.backpropGradient(epsilon, workspaceMgr));
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

    /** Runs a parent method with input = embeddings and paramTable = the graph's parameters. */
    private <T> T onEmbeddings(Supplier<T> parentCall) {
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
}
