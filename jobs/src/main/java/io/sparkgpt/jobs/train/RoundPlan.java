package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;

import java.util.Arrays;

/**
 * Which training windows each averaging round sees. The windows of all epochs form one stream:
 * epoch e is a permutation of the window indices drawn from (seed, e), and round r takes
 * positions [r * R, (r + 1) * R) of the stream, R = workers x batch x averaging frequency. The
 * order depends on the seed and the round alone, so a resumed run continues with exactly the
 * batches an uninterrupted one would have seen. Only indices live on the driver, never windows.
 */
public final class RoundPlan {
    private final long windows;
    private final int perRound;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] permutation;

    public RoundPlan(long windows, int perRound, long seed) {
        if (windows < perRound) {
            throw new UserInputException("the dataset has " + windows + " training windows, fewer than one "
                    + "averaging round needs (workers x batch size x averaging frequency = " + perRound + "): lower "
                    + "--batch-size-per-worker, --averaging-frequency or --workers, or tokenize with a smaller --stride");
        }
        this.windows = windows;
        this.perRound = perRound;
        this.seed = seed;
    }

    public int perRound() {
        return perRound;
    }

    /** The window indices of round r, in the order the workers take them. */
    public int[] round(long r) {
        int[] out = new int[perRound];
        for (int i = 0; i < perRound; i++) {
            long position = r * perRound + i;
            out[i] = permutation((int) (position / windows))[(int) (position % windows)];
        }
        return out;
    }

    /** Windows of the current epoch consumed before round r starts. */
    public long offsetInEpoch(long r) {
        return r * perRound % windows;
    }

    /** The epoch the window at the start of round r belongs to. */
    public int epochOf(long r) {
        return (int) (r * perRound / windows);
    }

    private int[] permutation(int epoch) {
        if (epoch != cachedEpoch) {
            permutation = shuffled(Math.toIntExact(windows), mix(seed, epoch));
            cachedEpoch = epoch;
        }
        return permutation;
    }

    /** Fisher-Yates with SplitMix64: the same on every JVM, unlike java.util.Random's contract. */
    static int[] shuffled(int n, long seed) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        long state = seed;
        for (int i = n - 1; i > 0; i--) {
            state += 0x9e3779b97f4a7c15L;
            int j = (int) Long.remainderUnsigned(mix(state, 0), i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    static long mix(long a, long b) {
        long z = a * 0x9e3779b97f4a7c15L + b;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
