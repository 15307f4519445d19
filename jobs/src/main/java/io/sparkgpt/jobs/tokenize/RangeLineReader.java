package io.sparkgpt.jobs.tokenize;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads the lines that start inside bytes [start, end) of a file, as raw bytes. A line belongs to
 * the range its first byte is in, so ranges that tile a file read each line exactly once.
 * A line longer than the limit is returned as oversized, without its bytes, and never buffered
 * whole (a 1 GB line costs no more memory than a short one).
 */
final class RangeLineReader implements Closeable {

    /**
     * A line's first byte offset in the file and its bytes without the line break: the first
     * {@code length} of {@code bytes}, a buffer reused by the next call. Oversized lines have none.
     */
    record Line(long offset, byte[] bytes, int length, boolean oversized) {
    }

    private final InputStream in;
    private final long end;
    private final int maxLineBytes;
    private final byte[] buffer = new byte[1 << 16];
    private int bufferPos;
    private int bufferLen;
    private long position;
    private boolean eof;
    private byte[] line = new byte[1024];
    private long lines;

    /** @param in the file's stream, already positioned at {@code start} (or at 0 if start is 0) */
    RangeLineReader(InputStream in, long start, long end, int maxLineBytes, boolean startsAtLineStart)
            throws IOException {
        this.in = in;
        this.end = end;
        this.maxLineBytes = maxLineBytes;
        this.position = start;
        if (!startsAtLineStart) {
            skipPastNewline();
        }
    }

    /** The next line of the range, or null after the last. */
    Line next() throws IOException {
        if (position >= end || (bufferPos == bufferLen && !fill())) {
            return null;
        }
        long offset = position;
        int length = 0;
        boolean oversized = false;
        while (bufferPos < bufferLen || fill()) {
            int newline = indexOfNewline();
            int stop = newline < 0 ? bufferLen : newline;
            int n = stop - bufferPos;
            if (oversized || length + n > maxLineBytes) {
                oversized = true;
            } else { // a segment at a time: a byte loop here was a tenth of the job's time
                ensureCapacity(length + n);
                System.arraycopy(buffer, bufferPos, line, length, n);
                length += n;
            }
            position += n;
            bufferPos = stop;
            if (newline >= 0) {
                bufferPos++;
                position++;
                break;
            }
        }
        lines++;
        if (oversized) {
            return new Line(offset, null, 0, true);
        }
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        return new Line(offset, line, length, false);
    }

    /** Lines returned so far: the range's line count once {@link #next()} has returned null. */
    long lines() {
        return lines;
    }

    private void skipPastNewline() throws IOException {
        while (bufferPos < bufferLen || fill()) {
            position++;
            if (buffer[bufferPos++] == '\n') {
                return;
            }
        }
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        int n = in.read(buffer, 0, buffer.length);
        if (n <= 0) {
            eof = true;
            return false;
        }
        bufferPos = 0;
        bufferLen = n;
        return true;
    }

    private int indexOfNewline() {
        for (int i = bufferPos; i < bufferLen; i++) {
            if (buffer[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void ensureCapacity(int needed) {
        if (needed > line.length) {
            line = Arrays.copyOf(line, Math.min(Math.max(needed, line.length * 2), maxLineBytes));
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
