package io.sparkgpt.tokenization;

import java.util.Arrays;

/**
 * The token stream of one shard: documents joined with the end-of-text id between them (none
 * before the first or after the last), so that a one-document corpus tokenizes exactly as
 * {@code tokenizer.encode(text)} in the book.
 *
 * <p>Tokens are handed to a {@link SlidingWindows} as they come, so a stream of any length needs
 * only one window's worth of memory.
 */
public final class TokenStream {
    private final int eotId;
    private final SlidingWindows windows;
    private long documents;
    private long tokens;

    public TokenStream(int eotId, SlidingWindows windows) {
        this.eotId = eotId;
        this.windows = windows;
    }

    /** Appends one document's ids, preceded by the end-of-text id unless it is the first. */
    public void addDocument(int[] ids) {
        if (documents > 0) {
            windows.accept(eotId);
            tokens++;
        }
        for (int id : ids) {
            windows.accept(id);
        }
        tokens += ids.length;
        documents++;
    }

    public long documents() {
        return documents;
    }

    /** Ids in the stream so far, end-of-text separators included. */
    public long tokens() {
        return tokens;
    }

    /** The whole stream of a list of documents, for tests and small corpora. */
    public static int[] join(int eotId, int[]... documents) {
        int total = Math.max(0, documents.length - 1);
        for (int[] d : documents) {
            total += d.length;
        }
        int[] out = new int[total];
        int at = 0;
        for (int i = 0; i < documents.length; i++) {
            if (i > 0) {
                out[at++] = eotId;
            }
            System.arraycopy(documents[i], 0, out, at, documents[i].length);
            at += documents[i].length;
        }
        return Arrays.copyOf(out, at);
    }
}
