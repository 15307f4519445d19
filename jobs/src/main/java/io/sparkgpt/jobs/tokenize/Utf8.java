package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding that tells whether the bytes were valid. */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes bytes; invalid sequences become U+FFFD and are counted in the report, or, when
     * strict, fail naming where they are.
     */
    static String decode(byte[] bytes, boolean strict, String where, ShardReport report) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            if (strict) {
                throw new UserInputException("invalid UTF-8 in " + where + ": fix or remove the file, "
                        + "or drop --strict to replace invalid bytes with U+FFFD");
            }
            report.invalidUtf8Documents++;
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }
}
