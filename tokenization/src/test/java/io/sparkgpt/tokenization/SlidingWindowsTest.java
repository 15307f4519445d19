package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SlidingWindowsTest {

    /** The book's GPTDatasetV1 loop, written as plainly as possible. */
    static List<int[]> booksWindows(int[] ids, int maxLength, int stride) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < ids.length - maxLength; i += stride) {
            int[] w = new int[maxLength + 1];
            System.arraycopy(ids, i, w, 0, maxLength + 1);
            out.add(w);
        }
        return out;
    }

    @Test
    void streamingWindowsEqualTheBooksLoopForManyShapes() {
        Random random = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            int n = random.nextInt(60);
            int maxLength = 1 + random.nextInt(10);
            int stride = 1 + random.nextInt(14);
            int[] ids = random.ints(n, 0, 1000).toArray();
            List<int[]> expected = booksWindows(ids, maxLength, stride);
            List<int[]> actual = SlidingWindows.of(ids, maxLength, stride);
            String shape = "n=" + n + " max_length=" + maxLength + " stride=" + stride;
            assertEquals(expected.size(), actual.size(), shape);
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), actual.get(i), shape + " window " + i);
            }
        }
    }

    @Test
    void everyWindowStartsAtItsOffsetAndItsTargetIsTheInputShiftedByOne() {
        int[] ids = new Random(1).ints(1000, 0, 50257).toArray();
        List<long[]> seen = new ArrayList<>();
        SlidingWindows windows = new SlidingWindows(16, 5, (offset, w) -> {
            for (int j = 0; j < w.length; j++) {
                assertEquals(ids[(int) offset + j], w[j], "window at " + offset + " position " + j);
            }
            seen.add(new long[] {offset});
        });
        for (int id : ids) {
            windows.accept(id);
        }
        assertEquals((1000 - 16 + 4) / 5, seen.size(), "range(0, n - max_length, stride) windows");
        assertEquals(seen.size(), windows.windows());
    }

    @Test
    void aStreamNoLongerThanMaxLengthGivesNoWindow() {
        assertEquals(0, SlidingWindows.of(new int[4], 4, 1).size(), "n == max_length");
        assertEquals(1, SlidingWindows.of(new int[5], 4, 1).size(), "n == max_length + 1");
    }

    @Test
    void theVerdictWithTheBooksSplitGives18TrainAnd2ValidationWindows() throws IOException {
        Tokenizer gpt2 = Tokenizer.shared(Tokenizer.GPT2);
        BookSplit.Parts parts = BookSplit.split(Files.readString(TokenizerTest.VERDICT), 0.1);
        int[] train = gpt2.encode(parts.train());
        int[] val = gpt2.encode(parts.val());
        assertEquals(4612, train.length, "train tokens");
        assertEquals(534, val.length, "val tokens");
        assertEquals(18, SlidingWindows.of(train, 256, 256).size(), "train windows");
        assertEquals(2, SlidingWindows.of(val, 256, 256).size(), "val windows");
    }
}
