package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class Gpt2PiecesTest {
    /** GPT-2's pattern as jtokkit 1.1.0 compiles it for r50k_base and p50k_base. */
    private static final Pattern GPT2 = Pattern.compile(
            "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    /** Characters of every class the pattern tells apart, and the edge cases of each. */
    private static final String[] ALPHABET = {"a", "s", "t", "d", "m", "l", "v", "e", "r", "Z", "é", "ß", "ǅ", "ʰ",
        "中", "文", "ا", "0", "7", "٣", "Ⅻ", "²", "'", "'", "!", ".", ",", "-", "\u0301", "😀", "𝔸", "\ud800",
        " ", " ", " ", "\t", "\n", "\r", "\u000b", "\f", "\u00a0", "\u2028", "\u0085", "\u3000", "\u001c", "\u200b"};

    static List<String> regexPieces(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = GPT2.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        Gpt2Pieces pieces = new Gpt2Pieces(text);
        for (int start = 0, end; (end = pieces.next(start)) > 0; start = end) {
            out.add(text.substring(start, end));
        }
        return out;
    }

    /** Random text: runs of 1-6 characters drawn from {@link #ALPHABET}, many of them rare words. */
    static String randomText(long seed, int runs) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder();
        for (int r = 0; r < runs; r++) {
            int length = 1 + random.nextInt(6);
            for (int i = 0; i < length; i++) {
                text.append(ALPHABET[random.nextInt(ALPHABET.length)]);
            }
        }
        return text.toString();
    }

    @Test
    void splitsTheVerdictAsThePatternDoes() throws IOException {
        String verdict = Files.readString(TokenizerTest.VERDICT);
        assertEquals(regexPieces(verdict), pieces(verdict));
    }

    @Test
    void splitsRandomTextOfEveryCharacterClassAsThePatternDoes() {
        for (long seed = 0; seed < 20; seed++) {
            String text = randomText(seed, 20_000);
            assertEquals(regexPieces(text), pieces(text), "seed " + seed);
        }
    }

    @Test
    void splitsTheEdgesOfEachAlternativeAsThePatternDoes() {
        for (String text : new String[] {"", " ", "  ", "a  b", "a \nb", "a\n b", "   ", "x   ", "'s", "'S", "''s",
            "'ll've're'm'd't", "'l", "it's", "don't", " 's", "!'s", "1234567", " 12 ab", " !?", "\u00a0a", "é\u0301",
            "😀😀 😀", "\ud800a", "a\r\n\r\nb", "tab\tand\u2028line"}) {
            assertEquals(regexPieces(text), pieces(text), "'" + text + "'");
        }
    }

    @Test
    void theCachedEncoderGivesJtokkitsIdsOnRealAndRandomText() throws IOException {
        Tokenizer gpt2 = Tokenizer.shared(Tokenizer.GPT2);
        String verdict = Files.readString(TokenizerTest.VERDICT);
        assertArrayEquals(gpt2.encodeUncached(verdict), gpt2.encode(verdict), "the-verdict");
        assertArrayEquals(gpt2.encodeUncached(verdict), gpt2.encode(verdict), "the-verdict, every piece cached");
        for (long seed = 100; seed < 105; seed++) {
            String text = randomText(seed, 20_000);
            assertArrayEquals(gpt2.encodeUncached(text), gpt2.encode(text), "seed " + seed);
        }
        Tokenizer p50k = Tokenizer.shared("p50k_base");
        assertArrayEquals(p50k.encodeUncached(verdict), p50k.encode(verdict), "p50k_base, the same pattern");
    }
}
