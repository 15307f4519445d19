package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Utf8Test {
    @Test
    void asciiAndValidMultiByteTextDecodeExactlyWithoutCounting() {
        ShardReport report = new ShardReport(0);
        Utf8 utf8 = new Utf8(false, report);
        byte[] buffer = "Café, naïve, 日本語 and \uD83D\uDE00 -- trailing bytes ignored".getBytes(StandardCharsets.UTF_8);
        int length = "Café, naïve, 日本語 and \uD83D\uDE00".getBytes(StandardCharsets.UTF_8).length;
        assertEquals("Café, naïve, 日本語 and \uD83D\uDE00", utf8.decode(buffer, length, "f", 0));
        assertEquals("plain", utf8.decode("plain ascii".getBytes(StandardCharsets.US_ASCII), 5, "f", 0));
        assertEquals(0, report.invalidUtf8Documents);
    }

    @Test
    void invalidBytesAreReplacedAndCountedOrRefusedWhenStrict() {
        ShardReport report = new ShardReport(0);
        byte[] bad = {'a', (byte) 0xC3, 'b', (byte) 0xFF};
        assertEquals("a\uFFFDb\uFFFD", new Utf8(false, report).decode(bad, 4, "f", 0));
        assertEquals(1, report.invalidUtf8Documents);
        UserInputException e = assertThrows(UserInputException.class,
                () -> new Utf8(true, report).decode(bad, 4, "corpus.txt", 1234));
        assertTrue(e.getMessage().startsWith("invalid UTF-8 in corpus.txt at byte 1234"), e.getMessage());
    }
}
