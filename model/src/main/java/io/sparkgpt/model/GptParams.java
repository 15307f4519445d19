package io.sparkgpt.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The names, shapes and initialisation of every parameter of the GPT, in one place.
 *
 * <p>Names avoid '_' (DL4J's updater splits "layer_param" gradient keys at the last '_') and follow
 * Hugging Face GPT-2's tensor names with the dots removed, so export can map them 1:1:
 * {@code wte}, {@code wpe}, {@code h3attnW} (= h.3.attn.c_attn.weight), {@code lnfG} (= ln_f.weight).
 * Linear weights are [in, out] like GPT-2's Conv1D; the untied head is [vocab, emb] like
 * PyTorch's lm_head so that tied and untied models multiply the same way (x · W^T).
 */
public final class GptParams {

    /** GPT-2's init: normal(0, 0.02) for weights and embeddings. */
    public static final double INIT_STD = 0.02;

    /** How a parameter starts: GPT-2 normal, zeros (biases, LayerNorm shift) or ones (LayerNorm scale). */
    public enum Init { NORMAL, ZEROS, ONES }

    /**
     * One parameter. {@code bias} marks the ones DL4J treats as biases (no weight decay): all
     * vectors, i.e. linear biases and LayerNorm scale/shift.
     */
    public record Spec(String name, long[] shape, Init init, boolean bias) {
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
    public static final String FINAL_NORM_SCALE = "lnfG";
    public static final String FINAL_NORM_SHIFT = "lnfB";

    private GptParams() {
    }

    /** Block i's parameter NAME, e.g. {@code block(3, "attnW")} = "h3attnW". */
    public static String block(int i, String name) {
        return "h" + i + name;
    }

    /**
     * The order of the flat parameter vector (and of its gradient and Adam's moments): the
     * matrices and embeddings, then the vectors, each in {@link #specs} order. It is the layout of
     * the SameDiff layer this engine replaced, so checkpoints written before carry over.
     */
    public static List<Spec> flatOrder(GptConfig c) {
        List<Spec> out = new ArrayList<>();
        specs(c).stream().filter(s -> !s.bias()).forEach(out::add);
        specs(c).stream().filter(Spec::bias).forEach(out::add);
        return out;
    }

    /** Every parameter of the network in a fixed order; their lengths sum to parameterCount(). */
    public static List<Spec> specs(GptConfig c) {
        long v = c.vocabSize();
        long e = c.embDim();
        List<Spec> out = new ArrayList<>();
        out.add(new Spec(TOKEN_EMBEDDING, new long[] {v, e}, Init.NORMAL, false));
        if (c.position() == GptConfig.Position.LEARNED) {
            out.add(new Spec(POSITION_EMBEDDING, new long[] {c.contextLength(), e}, Init.NORMAL, false));
        }
        for (int i = 0; i < c.nLayers(); i++) {
            out.add(new Spec(block(i, "ln1G"), new long[] {e}, Init.ONES, true));
            out.add(new Spec(block(i, "ln1B"), new long[] {e}, Init.ZEROS, true));
            out.add(new Spec(block(i, "attnW"), new long[] {e, 3 * e}, Init.NORMAL, false));
            if (c.qkvBias()) {
                out.add(new Spec(block(i, "attnB"), new long[] {3 * e}, Init.ZEROS, true));
            }
            out.add(new Spec(block(i, "projW"), new long[] {e, e}, Init.NORMAL, false));
            out.add(new Spec(block(i, "projB"), new long[] {e}, Init.ZEROS, true));
            out.add(new Spec(block(i, "ln2G"), new long[] {e}, Init.ONES, true));
            out.add(new Spec(block(i, "ln2B"), new long[] {e}, Init.ZEROS, true));
            out.add(new Spec(block(i, "fcW"), new long[] {e, 4 * e}, Init.NORMAL, false));
            out.add(new Spec(block(i, "fcB"), new long[] {4 * e}, Init.ZEROS, true));
            out.add(new Spec(block(i, "fc2W"), new long[] {4 * e, e}, Init.NORMAL, false));
            out.add(new Spec(block(i, "fc2B"), new long[] {e}, Init.ZEROS, true));
        }
        out.add(new Spec(FINAL_NORM_SCALE, new long[] {e}, Init.ONES, true));
        out.add(new Spec(FINAL_NORM_SHIFT, new long[] {e}, Init.ZEROS, true));
        if (!c.tieWeights()) {
            out.add(new Spec(HEAD, new long[] {v, e}, Init.NORMAL, false));
        }
        return out;
    }
}
