package io.sparkgpt.tokenization;

/**
 * Splits text into the pieces GPT-2's BPE encodes one at a time, exactly as its pattern does
 * (jtokkit's and tiktoken's r50k_base and p50k_base, compiled with UNICODE_CHARACTER_CLASS):
 * <pre>'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * by one pass over the code points instead of java.util.regex's backtracking matcher, which is
 * most of jtokkit's time on this pattern. {@code Gpt2PiecesTest} holds it to the regex on real
 * text and on random text of every character class.
 */
final class Gpt2Pieces {
    private static final int LETTER = 1;
    private static final int NUMBER = 2;
    private static final int SPACE = 3;
    private static final int OTHER = 4;

    private final String text;

    Gpt2Pieces(String text) {
        this.text = text;
    }

    /** The end of the piece starting at {@code start} (the previous piece's end), or -1 at the text's end. */
    int next(int start) {
        int n = text.length();
        if (start >= n) {
            return -1;
        }
        int c = text.codePointAt(start);
        int afterC = start + Character.charCount(c);
        if (c == '\'' && afterC < n) {
            int contraction = contraction(afterC);
            if (contraction > 0) {
                return contraction;
            }
        }
        int kind = kind(c);
        if (c == ' ' && afterC < n) {
            int nextKind = kind(text.codePointAt(afterC));
            if (nextKind != SPACE) {
                return run(afterC, nextKind);
            }
        }
        if (kind != SPACE) {
            return run(start, kind);
        }
        int spaces = run(start, SPACE);
        // \s+(?!\S): all of the run at the text's end, else all but its last character, which
        // then starts the next piece (" word"); \s+: a run of one before a non-space.
        if (spaces == n) {
            return spaces;
        }
        int last = text.offsetByCodePoints(spaces, -1);
        return last > start ? last : spaces;
    }

    /** The end of 's 't 're 've 'm 'll 'd (lower case only, as the pattern) after the apostrophe, or 0. */
    private int contraction(int at) {
        char a = text.charAt(at);
        if (a == 's' || a == 'd' || a == 'm' || a == 't') {
            return at + 1;
        }
        if (at + 1 < text.length()) {
            char b = text.charAt(at + 1);
            if ((a == 'l' && b == 'l') || (a == 'v' && b == 'e') || (a == 'r' && b == 'e')) {
                return at + 2;
            }
        }
        return 0;
    }

    /** The end of the run of code points of this kind from {@code from}. */
    private int run(int from, int kind) {
        int i = from;
        int n = text.length();
        while (i < n) {
            int c = text.codePointAt(i);
            if (kind(c) != kind) {
                break;
            }
            i += Character.charCount(c);
        }
        return i;
    }

    /** \p{L}, \p{N}, \s (Unicode White_Space, as java.util.regex defines it) or anything else. */
    static int kind(int c) {
        if (c < 128) { // ASCII first: most of most corpora
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                return LETTER;
            }
            if (c >= '0' && c <= '9') {
                return NUMBER;
            }
            return c == ' ' || (c >= 0x9 && c <= 0xd) ? SPACE : OTHER;
        }
        int type = Character.getType(c);
        switch (type) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER:
                return NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                return SPACE;
            default:
                return c == 0x85 ? SPACE : OTHER;
        }
    }
}
