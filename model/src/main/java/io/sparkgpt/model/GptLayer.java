package io.sparkgpt.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffOutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collection;
import java.util.Map;

/**
 * The whole GPT as one DL4J {@link SameDiffOutputLayer}: input token ids [batch, T], labels the
 * next-token ids [batch, T], output the mean next-token cross-entropy.
 *
 * <p>Why one layer: in DL4J 1.0.0-M2/M2.1 a custom SameDiffLayer returns twice the true gradient,
 * while SameDiffOutputLayer does not; separate DL4J layers also cannot share a weight (tying) and
 * RnnOutputLayer cannot drop its bias, so the book's exact parameter count needs one graph.
 *
 * <p>DL4J serialises layer configs to JSON through bean accessors (dl4j-spark ships them to
 * executors that way), so the config is kept as plain fields with getters, setters and a no-arg
 * constructor.
 */
public class GptLayer extends SameDiffOutputLayer {

    /** Name of the [batch, T, vocab] logits in the layer's graph (what net.output() returns). */
    static final String LOGITS = "logits";
    /** Name of the same logits as [batch*T, vocab] rows (the head's output, which backprop keeps anyway). */
    static final String LOGIT_ROWS = "logitRows";

    private int vocabSize;
    private int contextLength;
    private int embDim;
    private int nHeads;
    private int nLayers;
    private double dropRate;
    private boolean qkvBias;
    private boolean tieWeights;
    private String position;

    /** For JSON deserialisation only. */
    public GptLayer() {
    }

    public GptLayer(GptConfig c) {
        this.vocabSize = c.vocabSize();
        this.contextLength = c.contextLength();
        this.embDim = c.embDim();
        this.nHeads = c.nHeads();
        this.nLayers = c.nLayers();
        this.dropRate = c.dropRate();
        this.qkvBias = c.qkvBias();
        this.tieWeights = c.tieWeights();
        this.position = c.position().jsonName();
    }

    /** The validated config this layer was built from. */
    public GptConfig gptConfig() {
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias,
                tieWeights, GptConfig.Position.fromJson(position));
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        for (GptParams.Spec s : GptParams.specs(gptConfig())) {
            if (s.bias()) {
                params.addBiasParam(s.name(), s.shape());
            } else {
                params.addWeightParam(s.name(), s.shape());
            }
        }
    }

    /** GPT-2's init: weights normal(0, 0.02), biases and LayerNorm shifts 0, LayerNorm scales 1. */
    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        // Spec order, not map order, so a seed gives the same weights on every JVM.
        for (GptParams.Spec s : GptParams.specs(gptConfig())) {
            INDArray p = params.get(s.name());
            switch (s.init()) {
                case NORMAL -> p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(GptParams.INIT_STD));
                case ZEROS -> p.assign(0);
                case ONES -> p.assign(1);
            }
        }
    }

    /**
     * Training graph: dropout on; returns the loss summed over the batch (DL4J divides by it).
     * {@code input} is the embedded tokens [batch, T, emb] ({@link GptLayerImpl} looks them up).
     */
    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, SDVariable labels, Map<String, SDVariable> params) {
        GptConfig c = gptConfig();
        SDVariable rows = GptGraph.logitsRows(sd, input, params, c, true).rename(LOGIT_ROWS);  // [batch*T, vocab]
        GptGraph.unflatten(sd, LOGITS, rows, input, c);                             // [batch, T, vocab]
        return GptGraph.lossSumOverBatch(sd, rows, labels);
    }

    @Override
    public String activationsVertexName() {
        return LOGITS;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        long time = inputType instanceof InputType.InputTypeFeedForward ff ? ff.getSize() : -1;
        return InputType.recurrent(vocabSize, time);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        QuietStdout.install();
        GptLayerImpl layer = new GptLayerImpl(conf, networkDataType);
        layer.setIndex(layerIndex);
        layer.setListeners(listeners);
        layer.setParamsViewArray(layerParamsView);
        layer.setParamTable(initializer().init(conf, layerParamsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    // Bean accessors: DL4J's JSON mapper reads and writes layer configs through them.

    public int getVocabSize() {
        return vocabSize;
    }

    public void setVocabSize(int vocabSize) {
        this.vocabSize = vocabSize;
    }

    public int getContextLength() {
        return contextLength;
    }

    public void setContextLength(int contextLength) {
        this.contextLength = contextLength;
    }

    public int getEmbDim() {
        return embDim;
    }

    public void setEmbDim(int embDim) {
        this.embDim = embDim;
    }

    public int getNHeads() {
        return nHeads;
    }

    public void setNHeads(int nHeads) {
        this.nHeads = nHeads;
    }

    public int getNLayers() {
        return nLayers;
    }

    public void setNLayers(int nLayers) {
        this.nLayers = nLayers;
    }

    public double getDropRate() {
        return dropRate;
    }

    public void setDropRate(double dropRate) {
        this.dropRate = dropRate;
    }

    public boolean getQkvBias() {
        return qkvBias;
    }

    public void setQkvBias(boolean qkvBias) {
        this.qkvBias = qkvBias;
    }

    public boolean getTieWeights() {
        return tieWeights;
    }

    public void setTieWeights(boolean tieWeights) {
        this.tieWeights = tieWeights;
    }

    public String getPosition() {
        return position;
    }

    public void setPosition(String position) {
        this.position = position;
    }
}
