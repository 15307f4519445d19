package io.sparkgpt.jobs.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bag-of-words baseline's posterior, worked by hand on a two-class corpus. */
class NaiveBayesTest {

    @Test
    void logPosteriorIsThePriorPlusAddOneSmoothedWordLikelihoods() {
        // class 0: "win cash now", "win big"; class 1: "see you soon". Vocabulary: 7 words.
        NaiveBayes nb = new NaiveBayes(List.of("Win cash now", "win big", "see you soon"), new int[] {0, 0, 1}, 2);
        double[] s = nb.logPosterior("WIN soon, stranger");            // "stranger" is unseen: ignored
        // class 0: 5 words; P(win|0) = (2+1)/(5+7), P(soon|0) = (0+1)/12. class 1: 3 words; (0+1)/10, (1+1)/10.
        assertArrayEquals(new double[] {Math.log(2.0 / 3) + Math.log(3.0 / 12) + Math.log(1.0 / 12),
                Math.log(1.0 / 3) + Math.log(1.0 / 10) + Math.log(2.0 / 10)}, s, 1e-12);
        assertEquals(0, nb.predict("win win"));
        assertEquals(1, nb.predict("see you"));
    }

    @Test
    void wordsAreLowercasedRunsOfLettersDigitsAndApostrophes() {
        assertArrayEquals(new String[] {"and", "god's", "word", "1611"}, NaiveBayes.words("And God's word: 1611!"));
        assertArrayEquals(new String[0], NaiveBayes.words("  "));
    }
}
