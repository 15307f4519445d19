package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.Safetensors;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.model.GptParams;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Weights in and out as safetensors with Hugging Face's tensor names (GPT-2's, or LlamaForCausalLM's
 * in PyTorch's [out, in] layout): the way to start from
 * OpenAI's GPT-2 weights, or to take a model trained here to PyTorch. The model config travels in
 * the file's metadata ("sparkgpt_config"); files without it (OpenAI's) need a preset for n_heads
 * and drop_rate, everything else is read off the tensors' shapes.
 */
public final class WeightsExchange {
    static final String CONFIG_KEY = "sparkgpt_config";

    private WeightsExchange() {
    }

    public static void export(ComputationGraph net, OutputStream out) throws IOException {
        GptConfig c = GptNetwork.config(net);
        Map<String, INDArray> table = net.getLayer(GptNetwork.LAYER).paramTable();
        List<Safetensors.Tensor> tensors = new ArrayList<>();
        for (GptParams.Spec spec : GptParams.specs(c)) {
            INDArray a = table.get(spec.name());
            float[] values = rowMajor(spec.hfTransposed() ? a.transpose() : a);
            tensors.add(new Safetensors.Tensor(spec.hfName(), hfShape(spec), values));
        }
        if (!c.qkvBias() && c.architecture() == GptConfig.Architecture.GPT2) { // GPT-2 loaders expect every one
            for (int i = 0; i < c.nLayers(); i++) {
                tensors.add(new Safetensors.Tensor(GptParams.hfQkvBias(i), new long[] {3L * c.embDim()},
                        new float[3 * c.embDim()]));
            }
        }
        Safetensors.write(out, tensors, Map.of("format", "pt", CONFIG_KEY, c.toJson()));
    }

    /** The tensor's shape in Hugging Face's file ([out, in] for a transposed projection). */
    private static long[] hfShape(GptParams.Spec spec) {
        return spec.hfTransposed() ? new long[] {spec.shape()[1], spec.shape()[0]} : spec.shape();
    }

    /** The values in row-major (C) order, whatever the order of DL4J's parameter view. */
    private static float[] rowMajor(INDArray a) {
        return a.dup('c').data().asFloat(); // a fresh copy's buffer holds exactly its values
    }

    /** A network holding the file's weights; {@code preset} may be null if the file has a config. */
    public static ComputationGraph importWeights(Safetensors.Reader file, GptConfig preset, String source)
            throws IOException {
        GptConfig config = configOf(file, preset, source);
        ComputationGraph net = GptNetwork.build(config, 0, new NoOp(), 0, DataType.FLOAT);
        Map<String, INDArray> table = net.getLayer(GptNetwork.LAYER).paramTable();
        for (GptParams.Spec spec : GptParams.specs(config)) {
            String name = spec.hfName();
            Safetensors.Entry entry = entry(file, name, source);
            long[] shape = hfShape(spec);
            if (!Arrays.equals(entry.shape(), shape)) {
                throw new UserInputException(source + ": tensor " + name + " has shape " + Arrays.toString(entry.shape())
                        + ", the model needs " + Arrays.toString(shape));
            }
            INDArray values = Nd4j.create(file.floats(entry.name()), shape, 'c');
            table.get(spec.name()).assign(spec.hfTransposed() ? values.transpose() : values);
        }
        return net;
    }

    /**
     * The file's config: its own metadata if it has one (files written by export), else the
     * preset's n_heads and drop_rate with everything else read off the tensors (OpenAI's files).
     */
    static GptConfig configOf(Safetensors.Reader file, GptConfig preset, String source) throws IOException {
        String json = file.metadata().get(CONFIG_KEY);
        if (json != null) {
            GptConfig own = GptConfig.fromJson(json);
            requireMatch(own, preset, source);
            return own;
        }
        if (preset == null) {
            throw new UserInputException(source + " carries no sparkgpt config: name the matching --preset "
                    + "(gpt2-small for OpenAI's 124M weights) so that n_heads is known");
        }
        long[] wte = entry(file, "wte.weight", source).shape();
        Safetensors.Entry wpe = find(file, "wpe.weight");
        int layers = 0;
        while (find(file, "h." + layers + ".ln_1.weight") != null) {
            layers++;
        }
        boolean qkvBias = false;
        for (int i = 0; i < layers && !qkvBias; i++) {
            Safetensors.Entry b = find(file, GptParams.hfQkvBias(i));
            qkvBias = b != null && !allZero(file.floats(b.name()));
        }
        Safetensors.Entry head = find(file, "lm_head.weight");
        boolean tied = head == null
                || Arrays.equals(file.floats(head.name()), file.floats(entry(file, "wte.weight", source).name()));
        GptConfig config = new GptConfig((int) wte[0], wpe == null ? preset.contextLength() : (int) wpe.shape()[0],
                (int) wte[1], preset.nHeads(), layers, preset.dropRate(), qkvBias, tied,
                wpe == null ? GptConfig.Position.SINUSOIDAL : GptConfig.Position.LEARNED);
        requireMatch(config, preset, source);
        return config;
    }

    private static void requireMatch(GptConfig file, GptConfig preset, String source) {
        if (preset != null && (file.embDim() != preset.embDim() || file.nLayers() != preset.nLayers())) {
            throw new UserInputException(String.format("%s holds emb_dim %d and %d layers, the preset has %d and %d: "
                    + "choose the matching --preset", source, file.embDim(), file.nLayers(), preset.embDim(),
                    preset.nLayers()));
        }
    }

    private static boolean allZero(float[] values) {
        for (float v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    /** A tensor by GPT-2 name, also under the "transformer." prefix that GPT2LMHeadModel files use. */
    private static Safetensors.Entry find(Safetensors.Reader file, String name) {
        Safetensors.Entry e = file.entries().get(name);
        return e != null ? e : file.entries().get("transformer." + name);
    }

    private static Safetensors.Entry entry(Safetensors.Reader file, String name, String source) {
        Safetensors.Entry e = find(file, name);
        if (e == null) {
            throw new UserInputException(source + " has no tensor " + name + ": is it a GPT-2 safetensors file?");
        }
        return e;
    }
}
