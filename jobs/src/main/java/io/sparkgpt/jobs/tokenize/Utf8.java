package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 decoding that tells whether the bytes were valid, for one task (not thread-safe). ASCII,
 * most of an English corpus, takes a fast path; anything else goes through a strict decoder that
 * is reused rather than created for every line.
 */
final class Utf8 {
    private final CharsetDecoder strictDecoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final boolean strict;
    private final ShardReport report;

    Utf8(boolean strict, ShardReport report) {
        this.strict = strict;
        this.report = report;
    }

    /**
     * Decodes bytes [0, length); invalid sequences become U+FFFD and are counted in the report,
     * or, when strict, fail naming where they are ({@code path} at byte {@code offset}).
     */
    String decode(byte[] bytes, int length, String path, long offset) {
        if (isAscii(bytes, length)) {
            return new String(bytes, 0, length, StandardCharsets.US_ASCII);
        }
        try {
            return strictDecoder.reset().decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            if (strict) {
                throw new UserInputException("invalid UTF-8 in " + path + (offset > 0 ? " at byte " + offset : "")
                        + ": fix or remove the file, or pass --skip-bad-records to replace invalid bytes with U+FFFD "
                        + "(counted in dataset.json)");
            }
            report.invalidUtf8Documents++;
            return new String(bytes, 0, length, StandardCharsets.UTF_8);
        }
    }

    private static boolean isAscii(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] < 0) {
                return false;
            }
        }
        return true;
    }
}
