package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {
    static final Path VERDICT = Path.of("..", "data", "the-verdict.txt");
    private final Tokenizer gpt2 = Tokenizer.shared(Tokenizer.GPT2);

    @Test
    void booksExampleWithEndOfTextBetweenDocumentsEncodesToTheBooksIds() {
        String first = "Hello, do you like tea? ";
        String second = " In the sunlit terraces of someunknownPlace.";
        int[] ids = TokenStream.join(gpt2.eotId(), gpt2.encode(first), gpt2.encode(second));
        assertArrayEquals(new int[] {15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252,
                18250, 8812, 2114, 286, 617, 34680, 27271, 13}, ids, "the book's chapter 2 example");
        assertEquals(first + "<|endoftext|>" + second, gpt2.decode(ids), "decodes back to the text");
    }

    @Test
    void literalEndOfTextInsideADocumentIsOrdinaryText() {
        int[] ids = gpt2.encode("a <|endoftext|> b");
        for (int id : ids) {
            assertTrue(id != gpt2.eotId(), "the special id must not come from document text");
        }
        assertEquals("a <|endoftext|> b", gpt2.decode(ids));
    }

    @Test
    void theVerdictIs5145Tokens() throws IOException {
        assertEquals(5145, gpt2.encode(Files.readString(VERDICT)).length, "the book's count");
    }

    @Test
    void encodingsKnowTheirVocabularyAndEndOfTextId() {
        assertEquals(50257, gpt2.vocabSize());
        assertEquals(50256, gpt2.eotId());
        for (String name : new String[] {"r50k_base", "p50k_base", "cl100k_base", "o200k_base"}) {
            Tokenizer t = Tokenizer.shared(name);
            assertEquals("<|endoftext|>", t.decode(new int[] {t.eotId()}), name + " end-of-text id");
            assertFalse(t.decode(new int[] {t.vocabSize() - 1}).isEmpty(), name + " last id decodes");
            assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {t.vocabSize()}),
                    name + " id == vocab_size is outside the vocabulary");
        }
    }

    @Test
    void unknownEncodingNamesTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizer.shared("gpt5"));
        assertEquals("unknown encoding 'gpt5': use one of r50k_base, p50k_base, cl100k_base, o200k_base",
                e.getMessage());
    }
}
