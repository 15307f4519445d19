package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PieceIdsTest {
    private static int find(PieceIds cache, String text, int start, int end) {
        return cache.find(text, start, end, PieceIds.hash(text, start, end));
    }

    private static void put(PieceIds cache, String text, int start, int end, int... ids) {
        cache.put(text, start, end, PieceIds.hash(text, start, end), ids);
    }

    @Test
    void piecesWithTheSameHashAreToldApartByTheirCharacters() {
        PieceIds cache = new PieceIds();
        String text = "Aa BB"; // "Aa" and "BB" have the same String hash, hence the same PieceIds hash
        assertEquals(PieceIds.hash(text, 0, 2), PieceIds.hash(text, 3, 5));
        put(cache, text, 0, 2, 7);
        assertEquals(-1, find(cache, text, 3, 5), "BB is not Aa");
        put(cache, text, 3, 5, 8, 9);
        int[] out = new int[3];
        int end = cache.copyIds(find(cache, text, 0, 2), out, 0);
        end = cache.copyIds(find(cache, "xBBx", 1, 3), out, end);
        assertEquals(3, end);
        assertEquals(java.util.List.of(7, 8, 9), java.util.Arrays.stream(out).boxed().toList());
    }

    @Test
    void aFullCacheKeepsWhatItHoldsAndLongPiecesAreNeverCached() {
        PieceIds cache = new PieceIds();
        for (int i = 0; i < PieceIds.MAX_ENTRIES + 1000; i++) {
            String word = "w" + i;
            put(cache, word, 0, word.length(), i);
        }
        String first = "w0";
        String last = "w" + (PieceIds.MAX_ENTRIES - 1);
        String overflow = "w" + PieceIds.MAX_ENTRIES;
        int[] ids = new int[1];
        cache.copyIds(find(cache, last, 0, last.length()), ids, 0);
        assertEquals(PieceIds.MAX_ENTRIES - 1, ids[0], "the last piece that fit keeps its id");
        assertTrue(find(cache, first, 0, 2) >= 0, "the first piece is still there");
        assertEquals(-1, find(cache, overflow, 0, overflow.length()), "nothing past MAX_ENTRIES");
        PieceIds fresh = new PieceIds();
        String longPiece = "x".repeat(PieceIds.MAX_PIECE_CHARS + 1);
        put(fresh, longPiece, 0, longPiece.length(), 1);
        assertEquals(-1, find(fresh, longPiece, 0, longPiece.length()));
    }
}
