package io.sparkgpt.model;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.random.custom.DistributionUniform;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * Makes the dropout masks of a SameDiff graph a pure function of (seed, dropout site, element
 * position) by setting the random state of each uniform op's native context before a pass.
 *
 * <p>Why this works (measured on ND4J 1.0.0-M2.1): an {@link InferenceSession} keeps one native
 * op context per op name for the life of the session, and ND4J's native random generator is
 * counter-based: {@code randomuniform} fills element i from (root state, node state, i) and does
 * not advance the context's state. So, left alone, every pass of a network repeats the masks it
 * drew first (dropout is a fixed sparsity pattern, different per network instance and not reset
 * by {@code Nd4j.getRandom().setSeed}); with the states set here, masks depend on the seed only.
 * The states are keyed by op name, which the forward graph and its gradient function share, so
 * the score pass and the gradient pass of one step draw the same masks.
 *
 * <p>Costs a map lookup and two native calls per dropout site and pass; no extra array work.
 */
final class DropoutSeeds {

    private static final Field OP_CONTEXTS = opContextsField();

    private DropoutSeeds() {
    }

    /** Seeds every uniform op of {@code sd} for passes on the calling thread (creating its session). */
    static void apply(SameDiff sd, long seed) {
        InferenceSession session = sd.getSessions().computeIfAbsent(Thread.currentThread().getId(),
                id -> SameDiff.getInferenceFactory().create(sd));
        Map<String, OpContext> contexts = opContexts(session);
        for (SameDiffOp op : sd.getOps().values()) {
            if (op.getOp() instanceof DistributionUniform) {
                // Created here if the session has not run the op yet: it then uses this context.
                OpContext ctx = contexts.computeIfAbsent(op.getName(), n -> Nd4j.getExecutioner().buildContext());
                long root = mix(seed, op.getName().hashCode());
                ctx.setRngStates(root, mix(root, 0x5EED));
            }
        }
    }

    /** A well-spread 64-bit value of (a, b): SplitMix64's finaliser of a + golden-ratio * (b + 1). */
    static long mix(long a, long b) {
        long z = a + 0x9E3779B97F4A7C15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, OpContext> opContexts(InferenceSession session) {
        try {
            return (Map<String, OpContext>) OP_CONTEXTS.get(session);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read InferenceSession.opContexts", e);
        }
    }

    private static Field opContextsField() {
        try {
            Field f = InferenceSession.class.getDeclaredField("opContexts");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("InferenceSession.opContexts not found: deterministic dropout is "
                    + "written against ND4J 1.0.0-M2.1", e);
        }
    }
}
