package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptParams;
import io.sparkgpt.model.engine.Blas.Mat;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The book's GPT (chapter 4), forward and backward written out as llm.c's train_gpt2.c writes
 * them: token + position embedding and dropout; n_layers pre-LayerNorm blocks
 * x + drop(attn(LN1(x))), x + drop(fc2(GELU(fc(LN2(x))))); the final LayerNorm; the head and the
 * cross-entropy fused in chunks. Every matrix product is one rank-2 GEMM on [B*T, width] rows.
 * The llama architecture takes the same path with its own blocks ({@link LlamaBlocks}), no
 * position table (rotary embeddings turn q and k in each block) and a final RMSNorm.
 *
 * <p>Dropout sites: 0 the embedding; for block l, 1 + 3l the attention probabilities, 2 + 3l
 * the attention output, 3 + 3l the MLP output. Buffers are allocated once per (batch, T).
 */
public final class GptEngine {

    private final GptConfig c;
    private final Buf.Factory alloc;
    private final Dropout dropout;
    private final Dropout noDropout = new Dropout(0);
    /** The sinusoidal position table [context, C], or null for learned positions (wpe). */
    private final Buf sinusoid;
    /** LLaMA's rotary embeddings, or null for GPT-2. */
    private final Rotary rotary;
    private Activations acts;
    private long stepSeed;
    /** The pass's first sequence in its step's global batch: dropout masks are indexed from there. */
    private long firstSequence;
    private boolean training;
    /** Backward stops above this block (fine-tuning with the earlier blocks frozen); 0: all of them. */
    private int firstTrainedBlock;

    public GptEngine(GptConfig c, DataType dtype, Buf sinusoidTable) {
        this.c = c;
        this.alloc = Buf.allocator(dtype);
        this.dropout = new Dropout(c.dropRate());
        this.sinusoid = sinusoidTable;
        this.rotary = llama() ? new Rotary(c.contextLength(), c.headDim(), c.llama().ropeTheta()) : null;
    }

    /**
     * Gradients are computed only for blocks {@code block ..} and above (the rest and the embeddings
     * are frozen and keep zero gradients): backward skips the frozen blocks, as PyTorch's autograd
     * does for parameters without requires_grad. With {@code n_layers} (no block trained) the
     * final norm is frozen too and backward ends at the head.
     */
    public void setFirstTrainedBlock(int block) {
        if (block < 0 || block > c.nLayers()) {
            throw new IllegalArgumentException("first trained block " + block + " is not in [0, " + c.nLayers() + "]");
        }
        this.firstTrainedBlock = block;
    }

    private boolean llama() {
        return c.architecture() == GptConfig.Architecture.LLAMA;
    }

    /**
     * One training pass: forward with dropout from {@code seed}, the loss, and backward into
     * {@code grads} (zeroed first). Returns the sum over all batch*T positions of the next-token
     * cross-entropy; the gradients are those of that sum times {@code gradScale}. The batch is
     * sequences {@code firstSequence ..} of its step's global batch: their dropout masks are the
     * ones those sequences get in one pass over the whole global batch, so data-parallel workers
     * (and gradient-accumulation micro-batches) draw exactly one process's masks.
     */
    public double lossAndGradients(Tensors params, Tensors grads, int[][] tokens, int[][] targets,
                                   long seed, long firstSequence, double gradScale) {
        start(tokens, targets, true, seed, firstSequence);
        forward(params);
        Activations a = acts;
        grads.zero();
        Buf head = params.get(headName());
        double loss = a.head.lossAndBackward(a.lnf, a.rows, Mat.of(head, 0, c.embDim()), a.targets, gradScale,
                a.dNorm, Mat.of(grads.get(headName()), 0, c.embDim()));
        if (firstTrainedBlock == c.nLayers()) {
            return loss;                                   // the head alone is trained: the final norm is frozen too
        }
        a.dResidual.zero(0, a.dResidual.length());
        if (llama()) {
            LlamaKernels.rmsNormBackward(a.dResidual, grads.get(GptParams.FINAL_NORM_SCALE), a.dNorm,
                    a.residual[c.nLayers()], params.get(GptParams.FINAL_NORM_SCALE), a.lnfRstd, a.rows, c.embDim());
        } else {
            Kernels.layerNormBackward(a.dResidual, grads.get(GptParams.FINAL_NORM_SCALE), 0,
                    grads.get(GptParams.FINAL_NORM_SHIFT), 0, a.dNorm, a.residual[c.nLayers()],
                    params.get(GptParams.FINAL_NORM_SCALE), 0, a.lnfMean, a.lnfRstd, a.rows, c.embDim());
        }
        for (int l = c.nLayers() - 1; l >= firstTrainedBlock; l--) {
            if (llama()) {
                LlamaBlocks.backward(this, l, params, grads);
            } else {
                Blocks.backward(this, l, params, grads);
            }
        }
        if (firstTrainedBlock == 0) {
            embeddingBackward(grads);
        }
        return loss;
    }

    /** The summed next-token cross-entropy without gradients; dropout from {@code seed} if training. */
    public double loss(Tensors params, int[][] tokens, int[][] targets, boolean train, long seed,
                       long firstSequence) {
        start(tokens, targets, train, seed, firstSequence);
        forward(params);
        Buf head = params.get(headName());
        return acts.head.lossAndBackward(acts.lnf, acts.rows, Mat.of(head, 0, c.embDim()), acts.targets, 0,
                null, null);
    }

    /** Logits [batch*T, vocab] into {@code out}, without dropout (inference). */
    public void logits(Tensors params, int[][] tokens, Buf out) {
        start(tokens, null, false, 0, 0);
        forward(params);
        CrossEntropyHead.logits(out, acts.lnf, acts.rows, c.headRows(), c.embDim(),
                Mat.of(params.get(headName()), 0, c.embDim()));
    }

    private void start(int[][] tokens, int[][] targets, boolean train, long seed, long firstSequence) {
        int b = tokens.length;
        int t = tokens[0].length;
        if (t > c.contextLength()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds context_length " + c.contextLength());
        }
        if (acts == null || acts.batch != b || acts.time != t) {
            acts = null;                                                       // let the old buffers go first
            acts = new Activations(c, alloc, b, t);
        }
        copyIds(tokens, acts.tokens, t, "token", c.vocabSize(), false);
        if (targets != null) {
            copyIds(targets, acts.targets, t, "target", c.headRows(), true);
        }
        this.training = train;
        this.stepSeed = seed;
        this.firstSequence = firstSequence;
    }

    private void copyIds(int[][] ids, int[] into, int t, String what, int range, boolean ignorable) {
        for (int b = 0; b < ids.length; b++) {
            if (ids[b].length != t) {
                throw new IllegalArgumentException(what + " row " + b + " has " + ids[b].length + " ids, not " + t);
            }
            for (int i = 0; i < t; i++) {
                int id = ids[b][i];
                if ((id < 0 || id >= range) && !(ignorable && id == CrossEntropyHead.IGNORE)) {
                    throw new IllegalArgumentException(what + " id " + id + " at [" + b + ", " + i
                            + "] is outside the " + (range == c.vocabSize() ? "vocabulary" : "classes") + " [0, "
                            + range + ")");
                }
                into[b * t + i] = id;
            }
        }
    }

    private void forward(Tensors params) {
        embeddingForward(params);
        for (int l = 0; l < c.nLayers(); l++) {
            if (llama()) {
                LlamaBlocks.forward(this, l, params);
            } else {
                Blocks.forward(this, l, params);
            }
        }
        if (llama()) {
            LlamaKernels.rmsNorm(acts.lnf, acts.residual[c.nLayers()], acts.rows, c.embDim(),
                    params.get(GptParams.FINAL_NORM_SCALE), c.llama().rmsNormEps(), acts.lnfRstd);
            return;
        }
        Kernels.layerNorm(acts.lnf, acts.residual[c.nLayers()], acts.rows, c.embDim(),
                params.get(GptParams.FINAL_NORM_SCALE), 0, params.get(GptParams.FINAL_NORM_SHIFT), 0,
                acts.lnfMean, acts.lnfRstd);
    }

    /** residual[0] = drop(wte[token] + position[t]) (no position term with rotary embeddings). */
    private void embeddingForward(Tensors params) {
        int e = c.embDim();
        Buf wte = params.get(GptParams.TOKEN_EMBEDDING);
        Buf pos = positions(params);
        Buf x = acts.residual[0];
        for (int r = 0; r < acts.rows; r++) {
            int t = r % acts.time;
            x.copyFrom(wte, acts.tokens[r] * e, r * e, e);
            for (int i = 0; pos != null && i < e; i++) {
                x.add(r * e + i, pos.get(t * e + i));
            }
        }
        dropout().apply(x, 0, acts.rows * e, siteKey(0), firstElement(e));
    }

    /** wte[token] += d, wpe[t] += d (learned positions), d = the masked gradient of residual[0]. */
    private void embeddingBackward(Tensors grads) {
        int e = c.embDim();
        Buf d = acts.dResidual;
        dropout().apply(d, 0, acts.rows * e, siteKey(0), firstElement(e));
        Buf dWte = grads.get(GptParams.TOKEN_EMBEDDING);
        Buf dWpe = c.position() == GptConfig.Position.LEARNED ? grads.get(GptParams.POSITION_EMBEDDING) : null;
        for (int r = 0; r < acts.rows; r++) {
            int tok = acts.tokens[r] * e;
            int pos = (r % acts.time) * e;
            for (int i = 0; i < e; i++) {
                double v = d.get(r * e + i);
                dWte.add(tok + i, v);
                if (dWpe != null) {
                    dWpe.add(pos + i, v);
                }
            }
        }
    }

    /** The position table added to the embeddings: learned, sinusoidal, or none (rotary). */
    private Buf positions(Tensors params) {
        return switch (c.position()) {
            case LEARNED -> params.get(GptParams.POSITION_EMBEDDING);
            case SINUSOIDAL -> sinusoid;
            case ROTARY -> null;
        };
    }

    private String headName() {
        return GptParams.headName(c);
    }

    GptConfig config() {
        return c;
    }

    Rotary rotary() {
        return rotary;
    }

    Activations acts() {
        return acts;
    }

    /** The dropout of this pass: the config's when training, none otherwise. */
    Dropout dropout() {
        return training ? dropout : noDropout;
    }

    /** The mask index of this pass's first element of a [rows, width] site. */
    long firstElement(int width) {
        return firstSequence * acts.time * width;
    }

    /** The mask index of this pass's first attention probability ([B, NH, T, T] sites). */
    long firstProbability() {
        return firstSequence * c.nHeads() * acts.time * acts.time;
    }

    long siteKey(int site) {
        return Dropout.siteKey(stepSeed, site);
    }
}
