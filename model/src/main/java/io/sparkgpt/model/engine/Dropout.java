package io.sparkgpt.model.engine;

/**
 * Inverted dropout whose mask is a pure function of (step seed, site, element index): a
 * counter-based generator, so backward regenerates the forward pass's mask instead of storing
 * it, a restored run draws the same masks, and masks do not depend on threads or call order.
 * Element i of site s is kept when its 16-bit uniform u(seed, s, i) is at least rate * 2^16, and
 * kept elements are scaled by 1/(1 - rate), so inference needs no rescaling (the book's
 * nn.Dropout). One 64-bit hash serves four consecutive elements (16 bits each): hashing is most
 * of dropout's cost, and 16 bits resolve any rate to 1.5e-5.
 */
public final class Dropout {

    private final double rate;
    private final double scale;
    /** Elements whose 16-bit uniform is below this are dropped. */
    private final int dropBelow;
    /** Scratch of the float path (an engine, and so its dropout, runs one pass at a time). */
    private static final int CHUNK = 1024;
    private final float[] values = new float[CHUNK];
    private final float[] factors = new float[CHUNK];

    public Dropout(double rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("drop_rate " + rate + " must be in [0, 1)");
        }
        this.rate = rate;
        this.scale = 1.0 / (1.0 - rate);
        this.dropBelow = (int) Math.ceil(rate * (1 << 16));
    }

    public boolean active() {
        return rate > 0;
    }

    /** The key of one dropout site in one step: all its elements' masks derive from it. */
    public static long siteKey(long stepSeed, int site) {
        return mix(stepSeed, site);
    }

    /** The mask factor of element i of the site: 0 or 1/(1 - rate). */
    public double factor(long siteKey, long i) {
        return kept(mix(siteKey, i >>> 2), i) ? scale : 0.0;
    }

    /** Whether element i is kept, given the hash of its group of four. */
    private boolean kept(long groupHash, long i) {
        return ((groupHash >>> (16 * (i & 3))) & 0xFFFF) >= dropBelow;
    }

    /** x[off + i] *= mask(first + i) for i in [0, n). */
    public void apply(Buf x, int off, int n, long siteKey, long first) {
        if (x instanceof Buf.F32 f) {
            applyFloat(f, off, n, siteKey, first);
            return;
        }
        for (int i = 0; i < n; i++) {
            x.set(off + i, x.get(off + i) * factor(siteKey, first + i));
        }
    }

    /** Chunks: the row is read once, the factors computed branch-free, the product vectorized. */
    private void applyFloat(Buf.F32 x, int off, int n, long siteKey, long first) {
        for (int done = 0; done < n; done += CHUNK) {
            int m = Math.min(CHUNK, n - done);
            x.read(off + done, values, m);
            maskFactors(siteKey, first + done, m);
            for (int i = 0; i < m; i++) {
                values[i] *= factors[i];
            }
            x.write(off + done, values, m);
        }
    }

    /** factors[0, m) = the masks of elements first .. first + m - 1, one hash per group of four. */
    private void maskFactors(long siteKey, long first, int m) {
        float keptScale = (float) scale;
        long hash = 0;
        for (int i = 0; i < m; i++) {
            long index = first + i;
            if (i == 0 || (index & 3) == 0) {                                      // a new group of four
                hash = mix(siteKey, index >>> 2);
            }
            factors[i] = kept(hash, index) ? keptScale : 0f;
        }
    }

    /**
     * The mask on the lower triangle (j <= i) of the [t, t] matrix at x[off], mask indices from
     * first + i * t + j; the upper triangle, causal attention's zeros, is left as it is.
     */
    public void applyCausal(Buf x, int off, int t, long siteKey, long first) {
        for (int i = 0; i < t; i++) {
            apply(x, off + i * t, i + 1, siteKey, first + (long) i * t);
        }
    }

    /** SplitMix64's finaliser of a + golden-ratio * (b + 1): a well-spread 64-bit value of (a, b). */
    public static long mix(long a, long b) {
        long z = a + 0x9E3779B97F4A7C15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
