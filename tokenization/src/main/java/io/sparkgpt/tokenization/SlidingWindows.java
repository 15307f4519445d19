package io.sparkgpt.tokenization;

import java.util.ArrayList;
import java.util.List;

/**
 * The book's GPTDatasetV1 windows, formed on a stream: for {@code i in range(0, n - max_length,
 * stride)} the window holds ids {@code [i, i + max_length]}, i.e. max_length + 1 ids, whose first
 * max_length are the input and last max_length the target (the input shifted by one).
 *
 * <p>A window at i exists exactly when id i + max_length exists, so each is emitted as soon as
 * that id arrives, without knowing n. Memory is one window plus one stride.
 */
public final class SlidingWindows {

    /** Receives each window with the stream position of its first id. */
    @FunctionalInterface
    public interface Sink {
        void window(long offset, int[] ids);
    }

    private final int maxLength;
    private final int stride;
    private final Sink sink;
    // Ids from position `bufferStart` on; a ring would save copies, but windows are small.
    private int[] buffer;
    private int buffered;
    private long bufferStart;
    private long nextWindow;
    private long windows;

    public SlidingWindows(int maxLength, int stride, Sink sink) {
        if (maxLength < 1 || stride < 1) {
            throw new IllegalArgumentException(
                    "max_length " + maxLength + " and stride " + stride + " must both be at least 1");
        }
        this.maxLength = maxLength;
        this.stride = stride;
        this.sink = sink;
        this.buffer = new int[2 * (maxLength + 1) + stride];
    }

    /** Adds the next id of the stream; emits the window it completes, if any. */
    public void accept(int id) {
        long position = bufferStart + buffered;
        if (position < nextWindow) {
            // Ids between windows (stride > max_length + 1) are never part of a window, and
            // neither is anything buffered before them.
            bufferStart = position + 1;
            buffered = 0;
            return;
        }
        if (buffered == buffer.length) {
            compact();
        }
        buffer[buffered++] = id;
        if (position == nextWindow + maxLength) {
            int from = (int) (nextWindow - bufferStart);
            int[] ids = new int[maxLength + 1];
            System.arraycopy(buffer, from, ids, 0, maxLength + 1);
            sink.window(nextWindow, ids);
            windows++;
            nextWindow += stride;
        }
    }

    /** Drops ids before the next window's start. */
    private void compact() {
        int drop = (int) Math.min(buffered, nextWindow - bufferStart);
        System.arraycopy(buffer, drop, buffer, 0, buffered - drop);
        buffered -= drop;
        bufferStart += drop;
    }

    public long windows() {
        return windows;
    }

    /** All windows of an in-memory stream, for tests and small corpora. */
    public static List<int[]> of(int[] ids, int maxLength, int stride) {
        List<int[]> out = new ArrayList<>();
        SlidingWindows w = new SlidingWindows(maxLength, stride, (offset, window) -> out.add(window));
        for (int id : ids) {
            w.accept(id);
        }
        return out;
    }
}
