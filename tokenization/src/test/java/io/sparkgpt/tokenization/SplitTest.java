package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitTest {

    @Test
    void bookSplitCutsAtTheCodePointMarkAsPythonDoes() {
        // 10 code points, the first a surrogate pair: Python's len is 10, Java's length() is 11.
        String text = "\uD83D\uDE00abcdefghi";
        BookSplit.Parts parts = BookSplit.split(text, 0.1);
        assertEquals("\uD83D\uDE00abcdefgh", parts.train(), "int(0.9 * 10) = 9 code points");
        assertEquals("i", parts.val());
    }

    @Test
    void documentSplitIsDeterministicAndNearTheFraction() {
        DocumentSplit split = new DocumentSplit(0.1, 42);
        long file = DocumentSplit.sourceHash("file.txt");
        int val = 0;
        for (int i = 0; i < 20_000; i++) {
            boolean v = split.isValidation(file, i * 37L);
            assertEquals(v, new DocumentSplit(0.1, 42).isValidation(file, i * 37L), "same seed, same split");
            val += v ? 1 : 0;
        }
        assertTrue(val > 1800 && val < 2200, "about 10% of 20,000 documents, got " + val);
    }

    @Test
    void documentSplitChangesWithTheSeedAndZeroFractionKeepsEverythingInTrain() {
        int differ = 0;
        long file = DocumentSplit.sourceHash("doc.txt");
        for (int i = 0; i < 1000; i++) {
            differ += new DocumentSplit(0.5, 1).isValidation(file, i) != new DocumentSplit(0.5, 2).isValidation(file, i)
                    ? 1 : 0;
            assertEquals(false, new DocumentSplit(0, 1).isValidation(file, i), "val_fraction 0");
        }
        assertNotEquals(0, differ, "another seed gives another split");
    }
}
