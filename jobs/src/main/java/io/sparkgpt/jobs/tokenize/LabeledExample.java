package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.DocumentSplit;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One encoded record of a labeled corpus: its stored ids, real length, label, order key and split. */
final class LabeledExample implements Serializable {
    final byte[] tokens;
    /** Real ids kept (0: an empty text, which no classifier can score). */
    final int length;
    /** The text's ids before truncation. */
    final int textTokens;
    final int label;
    final long offset;
    final boolean val;

    LabeledExample(byte[] tokens, int length, int textTokens, int label, long offset, boolean val) {
        this.tokens = tokens;
        this.length = length;
        this.textTokens = textTokens;
        this.label = label;
        this.offset = offset;
        this.val = val;
    }

    /** Encodes a (text, label) row on an executor, with that JVM's tokenizer. */
    static final class Encode implements Function<Row, LabeledExample> {
        private final String encoding;
        private final int maxLength;
        private final double valFraction;
        private final long seed;
        private final Map<String, Integer> labelIndex = new HashMap<>();
        private transient DocumentSplit split;

        Encode(TokenizeConfig c, List<String> labels) {
            this.encoding = c.encoding();
            this.maxLength = c.maxLength();
            this.valFraction = c.valFraction();
            this.seed = c.seed();
            for (int i = 0; i < labels.size(); i++) {
                labelIndex.put(labels.get(i), i);
            }
        }

        @Override
        public LabeledExample call(Row row) {
            if (split == null) {
                split = new DocumentSplit(valFraction, seed);
            }
            String text = row.getString(0);
            Tokenizer tokenizer = Tokenizer.shared(encoding);
            int[] ids = tokenizer.encode(text);
            int[] stored = DatasetFormat.truncatedAndPadded(ids, maxLength, tokenizer.eotId());
            long key = DocumentSplit.sourceHash(text);                 // the same text: the same split
            return new LabeledExample(DatasetFormat.encode(stored, DatasetFormat.tokenBytes(tokenizer.vocabSize())),
                    Math.min(ids.length, maxLength), ids.length, labelIndex.get(row.getString(1)), key,
                    split.isValidation(key, 0));
        }
    }

    /** The split's scorable examples (empty texts are counted, not written). */
    static final class InSplit implements Function<LabeledExample, Boolean> {
        private final boolean val;

        InSplit(String split) {
            this.val = split.equals(DatasetFormat.VAL);
        }

        @Override
        public Boolean call(LabeledExample e) {
            return e.val == val && e.length > 0;
        }
    }

    static final class ToRow implements Function<LabeledExample, Row> {
        @Override
        public Row call(LabeledExample e) {
            return LabeledTokenizeJob.row(e.tokens, e.length, e.label, e.offset);
        }
    }
}
