package io.sparkgpt.tokenization;

import java.nio.charset.StandardCharsets;

/**
 * Assigns documents to the validation split by a hash of their stable id and a seed: the same
 * corpus and seed always give the same split, whatever the cluster, partitioning or order.
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

    /** True if the document with this id belongs to the validation split. */
    public boolean isValidation(String documentId) {
        return valFraction > 0 && unitHash(documentId) < valFraction;
    }

    /** A uniform value in [0, 1) from the id and the seed (FNV-1a, then SplitMix64's finalizer). */
    double unitHash(String documentId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : documentId.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        long z = h + seed * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }
}
