package io.sparkgpt.model;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays the GPT's parameters (and their gradients) out as views of DL4J's flat vectors, in
 * {@link GptParams#flatOrder}; "weights" (weight decay) are the matrices and embeddings, "biases"
 * the vectors. Stateless: DL4J holds one per layer config and ships configs as JSON.
 */
public final class GptParamInitializer implements ParamInitializer {

    public static final GptParamInitializer INSTANCE = new GptParamInitializer();

    private static GptConfig gpt(Layer layer) {
        return ((GptLayer) layer).gptConfig();
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return GptParams.specs(gpt(layer)).stream().mapToLong(GptParams.Spec::length).sum();
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return GptParams.flatOrder(gpt(layer)).stream().map(GptParams.Spec::name).toList();
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return GptParams.flatOrder(gpt(layer)).stream().filter(GptParams.Spec::decayed).map(GptParams.Spec::name).toList();
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return GptParams.flatOrder(gpt(layer)).stream().filter(s -> !s.decayed()).map(GptParams.Spec::name).toList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return weightKeys(layer).contains(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return biasKeys(layer).contains(key);
    }

    /** Views of paramsView, GPT-2's init when asked: normal(0, 0.02), LayerNorm scales 1, the rest 0. */
    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        Map<String, INDArray> views = views(conf, paramsView);
        views.keySet().forEach(conf::addVariable);
        if (initializeParams) {
            // Spec order, not flat order, so that a seed gives the same weights as it always has.
            for (GptParams.Spec s : GptParams.specs(gpt(conf.getLayer()))) {
                INDArray p = views.get(s.name());
                switch (s.init()) {
                    case NORMAL -> p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(GptParams.INIT_STD));
                    case ZEROS -> p.assign(0);
                    case ONES -> p.assign(1);
                }
            }
        }
        return views;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return views(conf, gradientView);
    }

    private static Map<String, INDArray> views(NeuralNetConfiguration conf, INDArray flat) {
        INDArray vector = flat.reshape(flat.length());
        Map<String, INDArray> out = new LinkedHashMap<>();
        long offset = 0;
        for (GptParams.Spec s : GptParams.flatOrder(gpt(conf.getLayer()))) {
            out.put(s.name(), vector.get(NDArrayIndex.interval(offset, offset + s.length())).reshape('c', s.shape()));
            offset += s.length();
        }
        if (offset != vector.length()) {
            throw new IllegalStateException("flat vector of " + vector.length() + " elements for " + offset + " parameters");
        }
        return out;
    }
}
