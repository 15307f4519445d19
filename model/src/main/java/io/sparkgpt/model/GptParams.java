package io.sparkgpt.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Every parameter of the GPT, declared once: its name, its Hugging Face GPT-2 tensor name, shape,
 * initialisation and weight-decay group. The init, the flat layout, the optimizer's decay, the
 * exporter and the importer all read this list, so adding a weight touches only {@link #specs}.
 *
 * <p>Names avoid '_' (DL4J's updater splits "layer_param" gradient keys at the last '_') and are
 * Hugging Face's with the dots and suffixes squeezed out: {@code wte}, {@code h3attnW}
 * (h.3.attn.c_attn.weight), {@code lnfG} (ln_f.weight). Linear weights are [in, out] like GPT-2's
 * Conv1D; the untied head is [vocab, emb] like PyTorch's lm_head, so that tied and untied models
 * multiply the same way (x · W^T). LLaMA's linear weights are [in, out] here too, so that both
 * architectures multiply alike; Hugging Face's LlamaForCausalLM keeps them [out, in]
 * ({@link Spec#hfTransposed}).
 */
public final class GptParams {

    /** GPT-2's init: normal(0, 0.02) for weights and embeddings. */
    public static final double INIT_STD = 0.02;

    /** How a parameter starts: GPT-2 normal, zeros (biases, LayerNorm shift) or ones (LayerNorm scale). */
    public enum Init { NORMAL, ZEROS, ONES }

    /**
     * One parameter. {@code decayed}: in the weight-decay group (matrices and embeddings, as in
     * nanoGPT's configure_optimizers); vectors (linear biases, LayerNorm scale and shift) are not,
     * and DL4J treats them as biases. {@code hfTransposed}: Hugging Face's
     * file holds it [out, in] (LLaMA's projections).
     */
    public record Spec(String name, String hfName, long[] shape, Init init, boolean decayed, boolean hfTransposed) {
        public long length() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }
    }

    public static final String TOKEN_EMBEDDING = "wte";
    public static final String POSITION_EMBEDDING = "wpe";
    public static final String HEAD = "lmHead";
    /** A classifier's head [num_classes, emb] (Hugging Face's GPT2ForSequenceClassification "score"). */
    public static final String SCORE = "score";
    public static final String FINAL_NORM_SCALE = "lnfG";
    public static final String FINAL_NORM_SHIFT = "lnfB";

    private GptParams() {
    }

    /** Block i's parameter NAME, e.g. {@code block(3, "attnW")} = "h3attnW". */
    public static String block(int i, String name) {
        return "h" + i + name;
    }

    /** Block i's qkv bias in a GPT-2 file, which always holds one (zeros for a model without). */
    public static String hfQkvBias(int i) {
        return "h." + i + ".attn.c_attn.bias";
    }

    /**
     * The order of the flat parameter vector (and of its gradient and Adam's moments): the decayed
     * matrices and embeddings, then the vectors, each in {@link #specs} order. It is the layout of
     * the SameDiff layer this engine replaced, so checkpoints written before carry over.
     */
    public static List<Spec> flatOrder(GptConfig c) {
        List<Spec> out = new ArrayList<>();
        specs(c).stream().filter(Spec::decayed).forEach(out::add);
        specs(c).stream().filter(s -> !s.decayed()).forEach(out::add);
        return out;
    }

    /** Every parameter of the network in a fixed order; their lengths sum to parameterCount(). */
    public static List<Spec> specs(GptConfig c) {
        if (c.architecture() == GptConfig.Architecture.LLAMA) {
            return llamaSpecs(c);
        }
        long v = c.vocabSize();
        long e = c.embDim();
        List<Spec> out = new ArrayList<>();
        out.add(matrix(TOKEN_EMBEDDING, "wte.weight", v, e));
        if (c.position() == GptConfig.Position.LEARNED) {
            out.add(matrix(POSITION_EMBEDDING, "wpe.weight", c.contextLength(), e));
        }
        for (int i = 0; i < c.nLayers(); i++) {
            String h = "h." + i + ".";
            out.add(vector(block(i, "ln1G"), h + "ln_1.weight", e, Init.ONES));
            out.add(vector(block(i, "ln1B"), h + "ln_1.bias", e, Init.ZEROS));
            out.add(matrix(block(i, "attnW"), h + "attn.c_attn.weight", e, 3 * e));
            if (c.qkvBias()) {
                out.add(vector(block(i, "attnB"), hfQkvBias(i), 3 * e, Init.ZEROS));
            }
            out.add(matrix(block(i, "projW"), h + "attn.c_proj.weight", e, e));
            out.add(vector(block(i, "projB"), h + "attn.c_proj.bias", e, Init.ZEROS));
            out.add(vector(block(i, "ln2G"), h + "ln_2.weight", e, Init.ONES));
            out.add(vector(block(i, "ln2B"), h + "ln_2.bias", e, Init.ZEROS));
            out.add(matrix(block(i, "fcW"), h + "mlp.c_fc.weight", e, 4 * e));
            out.add(vector(block(i, "fcB"), h + "mlp.c_fc.bias", 4 * e, Init.ZEROS));
            out.add(matrix(block(i, "fc2W"), h + "mlp.c_proj.weight", 4 * e, e));
            out.add(vector(block(i, "fc2B"), h + "mlp.c_proj.bias", e, Init.ZEROS));
        }
        out.add(vector(FINAL_NORM_SCALE, "ln_f.weight", e, Init.ONES));
        out.add(vector(FINAL_NORM_SHIFT, "ln_f.bias", e, Init.ZEROS));
        addHead(out, c);
        return out;
    }

    /**
     * LLaMA's parameters under Hugging Face's LlamaForCausalLM names: per block the RMSNorm weight
     * before attention ({@code attnNorm}), the q, k, v and o projections, the RMSNorm weight
     * before the MLP ({@code mlpNorm}) and SwiGLU's gate, up and down projections; the final
     * RMSNorm ({@code lnfG}); the head unless tied. No biases.
     */
    private static List<Spec> llamaSpecs(GptConfig c) {
        long v = c.vocabSize();
        long e = c.embDim();
        long kv = (long) c.kvHeads() * c.headDim();
        long hidden = c.hiddenDim();
        List<Spec> out = new ArrayList<>();
        out.add(matrix(TOKEN_EMBEDDING, "model.embed_tokens.weight", v, e));
        for (int i = 0; i < c.nLayers(); i++) {
            String h = "model.layers." + i + ".";
            out.add(vector(block(i, "attnNorm"), h + "input_layernorm.weight", e, Init.ONES));
            out.add(linear(block(i, "qW"), h + "self_attn.q_proj.weight", e, e));
            out.add(linear(block(i, "kW"), h + "self_attn.k_proj.weight", e, kv));
            out.add(linear(block(i, "vW"), h + "self_attn.v_proj.weight", e, kv));
            out.add(linear(block(i, "oW"), h + "self_attn.o_proj.weight", e, e));
            out.add(vector(block(i, "mlpNorm"), h + "post_attention_layernorm.weight", e, Init.ONES));
            out.add(linear(block(i, "gateW"), h + "mlp.gate_proj.weight", e, hidden));
            out.add(linear(block(i, "upW"), h + "mlp.up_proj.weight", e, hidden));
            out.add(linear(block(i, "downW"), h + "mlp.down_proj.weight", hidden, e));
        }
        out.add(vector(FINAL_NORM_SCALE, "model.norm.weight", e, Init.ONES));
        addHead(out, c);
        return out;
    }

    /** The head: none if tied, a classifier's score [num_classes, emb], else lm_head [vocab, emb]. */
    private static void addHead(List<Spec> out, GptConfig c) {
        if (c.isClassifier()) {
            out.add(matrix(SCORE, "score.weight", c.numClasses(), c.embDim()));
        } else if (!c.tieWeights()) {
            out.add(matrix(HEAD, "lm_head.weight", c.vocabSize(), c.embDim()));
        }
    }

    /** The parameter the head multiplies by: score, lmHead, or wte when tied. */
    public static String headName(GptConfig c) {
        return c.isClassifier() ? SCORE : c.tieWeights() ? TOKEN_EMBEDDING : HEAD;
    }

    /** A weight matrix or embedding: GPT-2's normal init, weight-decayed. */
    private static Spec matrix(String name, String hfName, long rows, long cols) {
        return new Spec(name, hfName, new long[] {rows, cols}, Init.NORMAL, true, false);
    }

    /** A LLaMA projection, [in, out] here and [out, in] in Hugging Face's files. */
    private static Spec linear(String name, String hfName, long in, long out) {
        return new Spec(name, hfName, new long[] {in, out}, Init.NORMAL, true, true);
    }

    /** A bias or norm vector: not weight-decayed. */
    private static Spec vector(String name, String hfName, long length, Init init) {
        return new Spec(name, hfName, new long[] {length}, init, false, false);
    }
}
