package io.sparkgpt.jobs.tokenize;

import java.io.Serializable;

/**
 * What a tokenize task needs to know, shipped to executors with each task.
 *
 * @param bookSplit true when the corpus is one document, split at the character mark as the book
 *                  does, instead of assigning whole documents to a split
 */
record TokenizeSettings(InputFormat format, String textField, String encoding, int maxLength, int stride,
                        double valFraction, long seed, boolean skipBadRecords, int maxDocumentBytes, boolean bookSplit)
        implements Serializable {

    static TokenizeSettings of(TokenizeConfig c, boolean bookSplit) {
        int maxDocumentBytes = (int) Math.min(c.maxDocumentBytes(), Integer.MAX_VALUE - 8);
        return new TokenizeSettings(c.format(), c.textField(), c.encoding(), c.maxLength(), c.stride(),
                c.valFraction(), c.seed(), c.skipBadRecords(), maxDocumentBytes, bookSplit);
    }
}
