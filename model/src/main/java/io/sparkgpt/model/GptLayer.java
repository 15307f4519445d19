package io.sparkgpt.model;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The whole GPT as one DL4J output layer (its config): input token ids [batch, T], labels the
 * next-token ids [batch, T], output the logits [batch, T, vocab]; training minimises the mean
 * next-token cross-entropy. {@link GptLayerImpl} runs the hand-written engine
 * ({@link io.sparkgpt.model.engine.GptEngine}).
 *
 * <p>Why one layer: separate DL4J layers cannot share a weight (tying), and the whole model as
 * one parameter block makes DL4J's ClipL2PerLayer the global-norm clipping of nanoGPT.
 *
 * <p>DL4J serialises layer configs to JSON through bean accessors (dl4j-spark ships them to
 * executors that way), so the config is kept as plain fields with getters, setters and a no-arg
 * constructor. The updater, weight decay and clipping come from the network's global config.
 */
public class GptLayer extends BaseLayer {

    private int vocabSize;
    private int contextLength;
    private int embDim;
    private int nHeads;
    private int nLayers;
    private double dropRate;
    private boolean qkvBias;
    private boolean tieWeights;
    private String position;
    /** LLaMA's part of the config (position "rotary"); zeros for GPT-2. */
    private int nKvHeads;
    private int intermediateSize;
    private double rmsNormEps;
    private double ropeTheta;
    private int numClasses;
    /** {@link Trainable#id()}: the parameters fine-tuning trains (the rest are frozen). */
    private String trainable = Trainable.ALL.id();

    /** For JSON deserialisation only. */
    public GptLayer() {
    }

    public GptLayer(GptConfig c) {
        this(c, Trainable.ALL);
    }

    public GptLayer(GptConfig c, Trainable trained) {
        this.trainable = trained.id();
        this.numClasses = c.numClasses();
        this.vocabSize = c.vocabSize();
        this.contextLength = c.contextLength();
        this.embDim = c.embDim();
        this.nHeads = c.nHeads();
        this.nLayers = c.nLayers();
        this.dropRate = c.dropRate();
        this.qkvBias = c.qkvBias();
        this.tieWeights = c.tieWeights();
        this.position = c.position().jsonName();
        if (c.llama() != null) {
            this.nKvHeads = c.llama().nKvHeads();
            this.intermediateSize = c.llama().intermediateSize();
            this.rmsNormEps = c.llama().rmsNormEps();
            this.ropeTheta = c.llama().ropeTheta();
        }
        // Unset (null / NaN), so that NeuralNetConfiguration.Builder fills in the network's updater,
        // weight decay and gradient clipping, as it does for layers made by DL4J's builders.
        this.iUpdater = null;
        this.biasUpdater = null;
        this.gradientNormalization = null;
        this.gradientNormalizationThreshold = Double.NaN;
        this.biasInit = Double.NaN;
        this.gainInit = Double.NaN;
    }

    /** The validated config this layer was built from. */
    public GptConfig gptConfig() {
        GptConfig.Position p = GptConfig.Position.fromJson(position);
        return new GptConfig(vocabSize, contextLength, embDim, nHeads, nLayers, dropRate, qkvBias, tieWeights, p,
                p == GptConfig.Position.ROTARY ? new GptConfig.Llama(nKvHeads, intermediateSize, rmsNormEps, ropeTheta)
                        : null, numClasses);
    }

    public Trainable trainableParams() {
        return Trainable.of(trainable);
    }

    /** A frozen parameter has no weight decay (and a zero gradient, see GptLayerImpl): it never moves. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return trainableParams().trains(paramName, gptConfig()) ? super.getRegularizationByParam(paramName)
                : List.of();
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView,
            boolean initializeParams, DataType networkDataType) {
        GptLayerImpl layer = new GptLayerImpl(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        layer.setParamTable(initializer().init(conf, layerParamsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return GptParamInitializer.INSTANCE;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        long time = inputType instanceof InputType.InputTypeFeedForward ff ? ff.getSize() : -1;
        return InputType.recurrent(gptConfig().headRows(), time);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // The input is token ids; the widths are the GPT config's.
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        long n = initializer().numParams(this);
        return new LayerMemoryReport.Builder(layerName, GptLayer.class, inputType, getOutputType(0, inputType))
                .standardMemory(n, n).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /**
     * DL4J 1.0.0-M2.1 sets a global weight decay on a BaseLayer twice (NeuralNetConfiguration's
     * copy, then LayerValidation's merge, which de-duplicates only L1/L2), which would decay
     * twice as fast: keep each regularization once.
     */
    @Override
    public void setRegularization(List<Regularization> regularization) {
        super.setRegularization(distinct(regularization));
    }

    @Override
    public void setRegularizationBias(List<Regularization> regularization) {
        super.setRegularizationBias(distinct(regularization));
    }

    private static List<Regularization> distinct(List<Regularization> list) {
        return list == null ? null : new ArrayList<>(new LinkedHashSet<>(list));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GptLayer other && super.equals(o) && gptConfig().equals(other.gptConfig())
                && trainable.equals(other.trainable);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), vocabSize, contextLength, embDim, nHeads, nLayers, position);
    }

    // Bean accessors: DL4J's JSON mapper reads and writes layer configs through them.

    public int getNumClasses() {
        return numClasses;
    }

    public void setNumClasses(int numClasses) {
        this.numClasses = numClasses;
    }

    public String getTrainable() {
        return trainable;
    }

    public void setTrainable(String trainable) {
        this.trainable = trainable;
    }

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

    public int getNKvHeads() {
        return nKvHeads;
    }

    public void setNKvHeads(int nKvHeads) {
        this.nKvHeads = nKvHeads;
    }

    public int getIntermediateSize() {
        return intermediateSize;
    }

    public void setIntermediateSize(int intermediateSize) {
        this.intermediateSize = intermediateSize;
    }

    public double getRmsNormEps() {
        return rmsNormEps;
    }

    public void setRmsNormEps(double rmsNormEps) {
        this.rmsNormEps = rmsNormEps;
    }

    public double getRopeTheta() {
        return ropeTheta;
    }

    public void setRopeTheta(double ropeTheta) {
        this.ropeTheta = ropeTheta;
    }
}
