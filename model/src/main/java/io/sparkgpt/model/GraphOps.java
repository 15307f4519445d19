package io.sparkgpt.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.api.ops.random.custom.DistributionUniform;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The small SameDiff building blocks of the GPT, written out from elementary ops so that the
 * math is exactly the book's (ND4J's own gelu is not the tanh form, and DL4J's dropout ops have
 * no gradient in 1.0.0-M2.1).
 */
final class GraphOps {

    /** LayerNorm epsilon, as in the book and PyTorch. */
    static final double LN_EPS = 1e-5;
    /** sqrt(2/pi), the constant of GELU's tanh approximation. */
    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    private GraphOps() {
    }

    /**
     * LayerNorm over the last axis with biased variance (divide by n, as torch.var(unbiased=False)):
     * (x - mean) / sqrt(var + eps) * scale + shift.
     */
    static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable scale, SDVariable shift) {
        SDVariable mean = sd.mean(x, true, -1);                       // [rows, 1]
        SDVariable centered = x.sub(mean);                            // [rows, emb]
        SDVariable var = sd.mean(centered.mul(centered), true, -1);   // [rows, 1]
        SDVariable normed = centered.mul(sd.math.rsqrt(var.add(LN_EPS)));
        return normed.mul(scale).add(shift);
    }

    /** GELU, tanh approximation (the book's and GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static SDVariable gelu(SameDiff sd, SDVariable x) {
        SDVariable cube = x.mul(x).mul(x);
        SDVariable inner = x.add(cube.mul(0.044715)).mul(GELU_C);
        return x.mul(sd.math.tanh(inner).add(1.0)).mul(0.5);
    }

    /** x · W (+ b): x [rows, in], W [in, out], b [out] or null. */
    static SDVariable linear(SameDiff sd, SDVariable x, SDVariable w, SDVariable b) {
        SDVariable y = sd.mmul(x, w);                                 // [rows, out]
        return b == null ? y : y.add(b);
    }

    /**
     * Inverted dropout: zero each element with probability rate and scale the rest by 1/(1-rate),
     * so inference needs no rescaling. The mask is data, not a function of x, so it carries no
     * gradient; only x does (through the multiply). Identity when rate is 0 or not training.
     */
    static SDVariable dropout(SameDiff sd, SDVariable x, double rate, boolean training) {
        if (!training || rate == 0.0) {
            return x;
        }
        SDVariable shape = sd.shape(GraphOps.stopGradient(sd, x));
        SDVariable u = new DistributionUniform(sd, shape, 0.0, 1.0, x.dataType()).outputVariable();
        SDVariable keep = sd.castTo(sd.gte(u, rate), x.dataType()).div(1.0 - rate);
        return x.mul(GraphOps.stopGradient(sd, keep));
    }

    /** x unchanged, with a zero gradient: for data (ids, shapes, masks) that no parameter depends on. */
    static SDVariable stopGradient(SameDiff sd, SDVariable x) {
        return new StopGradient(sd, x).outputVariable();
    }

    /** A LONG scalar constant, for building dynamic shape vectors with {@link #shapeOf}. */
    static SDVariable longConst(SameDiff sd, long value) {
        return sd.constant(Nd4j.scalar(DataType.LONG, value));
    }

    /** A shape vector from LONG scalars (dynamic sizes such as batch and T, or constants). */
    static SDVariable shapeOf(SameDiff sd, SDVariable... dims) {
        return sd.stack(0, dims);
    }
}
