package io.sparkgpt.tokenization;

import java.nio.charset.StandardCharsets;

/**
 * Assigns documents to the validation split by a hash of their stable identity (the source they
 * come from, e.g. a file path, and their position in it) and a seed: the same corpus and seed
 * always give the same split, whatever the cluster, partitioning or order. The source is hashed
 * once ({@link #sourceHash}); each document then costs two multiplications.
 */
public final class DocumentSplit {
    private final double valFraction;
    private final long seed;

    public DocumentSplit(double valFraction, long seed) {
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("val_fraction " + valFraction + " must be in [0, 1)");
        }
        this.valFraction = valFraction;
        this.seed = seed;
    }

    /** FNV-1a over the source's UTF-8 bytes. */
    public static long sourceHash(String source) {
        long h = 0xcbf29ce484222325L;
        for (byte b : source.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    /** True if the document at {@code position} of the source belongs to the validation split. */
    public boolean isValidation(long sourceHash, long position) {
        return valFraction > 0 && unitHash(sourceHash, position) < valFraction;
    }

    /** A uniform value in [0, 1) from the document's identity and the seed (SplitMix64 finalizer). */
    double unitHash(long sourceHash, long position) {
        long z = sourceHash + mix(position + seed * 0x9e3779b97f4a7c15L);
        return (mix(z) >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
