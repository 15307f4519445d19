package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A labeled dataset's counts, summed on the executors in one pass: per split the examples, their
 * real tokens, how many were truncated and the examples of each label; the empty texts skipped.
 * The vector: [empty, then per split (train, val): examples, tokens, truncated, count of each label].
 */
final class LabeledStats {
    private final long[] sums;
    private final int classes;
    private final long unlabeled;

    private LabeledStats(long[] sums, int classes, long unlabeled) {
        this.sums = sums;
        this.classes = classes;
        this.unlabeled = unlabeled;
    }

    static LabeledStats of(JavaRDD<LabeledExample> examples, int classes, long unlabeled) {
        return new LabeledStats(examples.aggregate(new long[1 + 2 * (3 + classes)], new Add(classes), new Merge()),
                classes, unlabeled);
    }

    long examples(int split) {
        return sums[base(split)];
    }

    private int base(int split) {
        return 1 + split * (3 + classes);
    }

    void requireExamples(TokenizeConfig c) {
        LabeledTokenizeJob.require(examples(0) > 0, String.format("input %s gives no training example (%,d in "
                + "validation, %,d empty texts): lower --val-fraction or add records", String.join(", ", c.inputs()),
                examples(1), sums[0]));
    }

    /** dataset.json's fields (after format_version). */
    Map<String, Object> manifest(TokenizeConfig c, List<String> labels) {
        Tokenizer tokenizer = Tokenizer.shared(c.encoding());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(DatasetFormat.TASK, DatasetFormat.CLASSIFICATION);
        m.put(DatasetFormat.ENCODING, tokenizer.name());
        m.put(DatasetFormat.VOCAB_SIZE, tokenizer.vocabSize());
        m.put(DatasetFormat.TOKEN_BYTES, DatasetFormat.tokenBytes(tokenizer.vocabSize()));
        m.put(DatasetFormat.EOT_ID, tokenizer.eotId());
        m.put(DatasetFormat.MAX_LENGTH, c.maxLength());
        m.put(DatasetFormat.NUM_CLASSES, labels.size());
        m.put(DatasetFormat.LABELS, labels);
        m.put("split_method", "by_text_hash");
        m.put("documents", examples(0) + examples(1));
        for (int split = 0; split < 2; split++) {
            int b = base(split);
            m.put(DatasetFormat.SPLITS.get(split), LabeledTokenizeJob.counts(sums[b], sums[b + 1], sums[b + 2],
                    Arrays.copyOfRange(sums, b + 3, b + 3 + classes), labels));
        }
        m.put("skipped", Map.of("no_text_or_label", unlabeled, "empty_text", sums[0]));
        m.put("warnings", examples(1) == 0 && c.valFraction() > 0
                ? List.of("the validation split has no example: raise --val-fraction or add records") : List.of());
        m.put("config", c.toMap());
        return m;
    }

    static final class Add implements Function2<long[], LabeledExample, long[]> {
        private final int classes;

        Add(int classes) {
            this.classes = classes;
        }

        @Override
        public long[] call(long[] s, LabeledExample e) {
            if (e.length == 0) {
                s[0]++;
                return s;
            }
            int b = 1 + (e.val ? 1 : 0) * (3 + classes);
            s[b]++;
            s[b + 1] += e.length;
            s[b + 2] += e.textTokens > e.length ? 1 : 0;
            s[b + 3 + e.label]++;
            return s;
        }
    }

    static final class Merge implements Function2<long[], long[], long[]> {
        @Override
        public long[] call(long[] a, long[] b) {
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
            return a;
        }
    }
}
