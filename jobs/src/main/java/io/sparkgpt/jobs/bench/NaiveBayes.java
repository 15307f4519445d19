package io.sparkgpt.jobs.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Multinomial Naive Bayes over bags of lowercased words with add-one (Laplace) smoothing: the
 * classic text-classification baseline (McCallum and Nigam, 1998). Written here because Spark
 * ML's, the library one, needs spark-mllib-local 3.5.8, which the mirror this project builds
 * from does not serve.
 */
final class NaiveBayes {
    private final int classes;
    private final double[] logPrior;
    private final Map<String, long[]> wordCounts = new HashMap<>();
    private final long[] wordsInClass;

    /** Fits on texts and their labels (0 .. classes - 1). */
    NaiveBayes(List<String> texts, int[] labels, int classes) {
        this.classes = classes;
        this.logPrior = new double[classes];
        this.wordsInClass = new long[classes];
        long[] docs = new long[classes];
        for (int i = 0; i < texts.size(); i++) {
            docs[labels[i]]++;
            for (String w : words(texts.get(i))) {
                wordCounts.computeIfAbsent(w, k -> new long[classes])[labels[i]]++;
                wordsInClass[labels[i]]++;
            }
        }
        for (int c = 0; c < classes; c++) {
            logPrior[c] = Math.log((double) docs[c] / texts.size());
        }
    }

    /** log P(c) + sum over the text's known words of log P(w | c), add-one smoothed over the vocabulary. */
    double[] logPosterior(String text) {
        double[] score = logPrior.clone();
        int vocabulary = wordCounts.size();
        for (String w : words(text)) {
            long[] counts = wordCounts.get(w);
            if (counts == null) {
                continue;                                    // unseen in training: no evidence either way
            }
            for (int c = 0; c < classes; c++) {
                score[c] += Math.log((counts[c] + 1.0) / (wordsInClass[c] + vocabulary));
            }
        }
        return score;
    }

    int predict(String text) {
        double[] s = logPosterior(text);
        int best = 0;
        for (int c = 1; c < classes; c++) {
            best = s[c] > s[best] ? c : best;
        }
        return best;
    }

    static String[] words(String text) {
        String lower = text.toLowerCase(Locale.ROOT).trim();
        return lower.isEmpty() ? new String[0] : lower.split("[^\\p{L}\\p{N}']+");
    }
}
