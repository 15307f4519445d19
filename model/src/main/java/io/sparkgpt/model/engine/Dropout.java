package io.sparkgpt.model.engine;

/**
 * Inverted dropout whose mask is a pure function of (step seed, site, element index): a
 * counter-based generator, so backward regenerates the forward pass's mask instead of storing
 * it, a restored run draws the same masks, and masks do not depend on threads or call order.
 * Element i of site s is kept when u(seed, s, i) >= rate, and kept elements are scaled by
 * 1/(1 - rate), so inference needs no rescaling (the book's nn.Dropout).
 */
public final class Dropout {

    private final double rate;
    private final double scale;
    /** u < rate, compared on 24-bit integers: u = h >>> 40 in [0, 2^24). */
    private final long dropBelow;

    public Dropout(double rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("drop_rate " + rate + " must be in [0, 1)");
        }
        this.rate = rate;
        this.scale = 1.0 / (1.0 - rate);
        this.dropBelow = (long) Math.ceil(rate * (1 << 24));
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
        return (mix(siteKey, i) >>> 40) < dropBelow ? 0.0 : scale;
    }

    /** x[off + i] *= mask(i) for i in [0, n), mask indices from first. */
    public void apply(Buf x, int off, int n, long siteKey, long first) {
        for (int i = 0; i < n; i++) {
            x.set(off + i, x.get(off + i) * factor(siteKey, first + i));
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
