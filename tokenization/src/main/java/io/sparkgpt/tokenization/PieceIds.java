package io.sparkgpt.tokenization;

import java.util.Arrays;

/**
 * One thread's ids of the pieces (words, numbers, runs of spaces or punctuation) it has encoded,
 * looked up by the piece's characters where they stand in the text: no substring, no String hash,
 * one probe of a flat open-addressing table. A java.util.HashMap of String keys spent most of the
 * encoder's time in allocation and pointer chasing. It stops growing at {@link #MAX_ENTRIES}
 * pieces (the frequent words of most corpora, about 7 MB); pieces longer than
 * {@link #MAX_PIECE_CHARS} are never cached (rare, and costly to compare).
 */
final class PieceIds {
    static final int MAX_ENTRIES = 1 << 17;
    static final int MAX_PIECE_CHARS = 48;
    private static final int NOT_FOUND = -1;

    private final int[] slots = new int[MAX_ENTRIES * 2]; // entry + 1; 0 = empty; load at most 1/2
    private final int mask = slots.length - 1;
    // Entry e: hash, first key char, key length, first id, id count at [5e, 5e + 5).
    private int[] entries = new int[5 * 1024];
    private char[] keys = new char[8 * 1024];
    private int[] ids = new int[2 * 1024];
    private int size;
    private int keysUsed;
    private int idsUsed;

    static int hash(String text, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + text.charAt(i);
        }
        return h ^ (h >>> 15) ^ (h >>> 7);
    }

    /** The entry of text[start, end) or {@link #NOT_FOUND}. */
    int find(String text, int start, int end, int hash) {
        int length = end - start;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
            int e = slots[slot] - 1;
            if (e < 0) {
                return NOT_FOUND;
            }
            int at = 5 * e;
            if (entries[at] == hash && entries[at + 2] == length && sameChars(text, start, entries[at + 1], length)) {
                return e;
            }
        }
    }

    private boolean sameChars(String text, int start, int key, int length) {
        for (int i = 0; i < length; i++) {
            if (keys[key + i] != text.charAt(start + i)) {
                return false;
            }
        }
        return true;
    }

    /** Appends entry e's ids to {@code out} at {@code at}; returns the new end. */
    int copyIds(int e, int[] out, int at) {
        int count = entries[5 * e + 4];
        System.arraycopy(ids, entries[5 * e + 3], out, at, count);
        return at + count;
    }

    int idCount(int e) {
        return entries[5 * e + 4];
    }

    /** Remembers text[start, end)'s ids, if there is room and the piece is short enough. */
    void put(String text, int start, int end, int hash, int[] pieceIds) {
        int length = end - start;
        if (size == MAX_ENTRIES || length > MAX_PIECE_CHARS) {
            return;
        }
        int at = 5 * size;
        if (at + 5 > entries.length) {
            entries = Arrays.copyOf(entries, entries.length * 2);
        }
        keys = grow(keys, keysUsed + length);
        text.getChars(start, end, keys, keysUsed);
        ids = grow(ids, idsUsed + pieceIds.length);
        System.arraycopy(pieceIds, 0, ids, idsUsed, pieceIds.length);
        entries[at] = hash;
        entries[at + 1] = keysUsed;
        entries[at + 2] = length;
        entries[at + 3] = idsUsed;
        entries[at + 4] = pieceIds.length;
        keysUsed += length;
        idsUsed += pieceIds.length;
        int slot = hash & mask;
        while (slots[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        slots[slot] = ++size;
    }

    private static char[] grow(char[] a, int needed) {
        return needed <= a.length ? a : Arrays.copyOf(a, Math.max(needed, a.length * 2));
    }

    /** {@code a}, or a copy at least twice as long if it holds fewer than {@code needed}. */
    static int[] grow(int[] a, int needed) {
        return needed <= a.length ? a : Arrays.copyOf(a, Math.max(needed, a.length * 2));
    }
}
