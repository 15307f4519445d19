package io.sparkgpt.tokenization;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;

/**
 * A BPE tokenizer (jtokkit) with the facts a dataset needs: vocabulary size and end-of-text id.
 *
 * <p>Text is encoded as ordinary text: a literal "&lt;|endoftext|&gt;" inside a document is split
 * into ordinary tokens, never turned into the special id. The end-of-text id is inserted only
 * between documents, by {@link TokenStream}.
 *
 * <p>Instances are thread-safe but not Serializable: on Spark, get one per executor JVM with
 * {@link #shared(String)} inside the task, never capture one in a closure.
 */
public final class Tokenizer {

    /** The encodings this project supports, with the vocabulary facts jtokkit does not expose. */
    public enum Kind {
        R50K_BASE("r50k_base", EncodingType.R50K_BASE, 50_257, 50_256, true),
        P50K_BASE("p50k_base", EncodingType.P50K_BASE, 50_281, 50_256, true),
        CL100K_BASE("cl100k_base", EncodingType.CL100K_BASE, 100_277, 100_257, false),
        O200K_BASE("o200k_base", EncodingType.O200K_BASE, 200_019, 199_999, false);

        final String id;
        final EncodingType type;
        final int vocabSize;
        final int eotId;
        /** Whether text is split by GPT-2's pattern ({@link Gpt2Pieces}). */
        final boolean gpt2Pieces;

        Kind(String id, EncodingType type, int vocabSize, int eotId, boolean gpt2Pieces) {
            this.id = id;
            this.type = type;
            this.vocabSize = vocabSize;
            this.eotId = eotId;
            this.gpt2Pieces = gpt2Pieces;
        }
    }

    /** GPT-2's encoding, the default everywhere. */
    public static final String GPT2 = "r50k_base";

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    private static final ConcurrentMap<String, Tokenizer> SHARED = new ConcurrentHashMap<>();

    private final Kind kind;
    private final Encoding encoding;
    /** Each thread's ids of the pieces it has seen (threads never wait for each other's). */
    private final ThreadLocal<PieceIds> pieceIds = ThreadLocal.withInitial(PieceIds::new);

    private Tokenizer(Kind kind) {
        this.kind = kind;
        this.encoding = REGISTRY.getEncoding(kind.type);
    }

    /** The one tokenizer of this JVM for the named encoding (built on first use). */
    public static Tokenizer shared(String name) {
        Kind kind = kind(name);
        return SHARED.computeIfAbsent(kind.id, k -> new Tokenizer(kind));
    }

    /** Resolves an encoding name such as "r50k_base", or fails naming the valid ones. */
    public static Kind kind(String name) {
        for (Kind k : Kind.values()) {
            if (k.id.equals(name == null ? null : name.toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown encoding '" + name + "': use one of " + names());
    }

    /** The supported encoding names, comma-separated. */
    public static String names() {
        return Arrays.stream(Kind.values()).map(k -> k.id).collect(Collectors.joining(", "));
    }

    public String name() {
        return kind.id;
    }

    public int vocabSize() {
        return kind.vocabSize;
    }

    public int eotId() {
        return kind.eotId;
    }

    /**
     * Encodes text as ordinary text (special-token strings are not special). For GPT-2's pattern,
     * each piece's ids come from this thread's cache, or from jtokkit's BPE of the piece alone
     * (BPE never crosses a piece): most words of real text repeat. The ids are jtokkit's.
     */
    public int[] encode(String text) {
        if (!kind.gpt2Pieces) {
            return encodeUncached(text);
        }
        PieceIds known = pieceIds.get();
        int[] out = new int[text.length() / 3 + 16];
        int size = 0;
        Gpt2Pieces pieces = new Gpt2Pieces(text);
        for (int start = 0, end; (end = pieces.next(start)) > 0; start = end) {
            int hash = PieceIds.hash(text, start, end);
            int e = known.find(text, start, end, hash);
            if (e >= 0) {
                out = PieceIds.grow(out, size + known.idCount(e));
                size = known.copyIds(e, out, size);
            } else {
                int[] ids = encoding.encodeOrdinary(text.substring(start, end)).toArray();
                known.put(text, start, end, hash, ids);
                out = PieceIds.grow(out, size + ids.length);
                System.arraycopy(ids, 0, out, size, ids.length);
                size += ids.length;
            }
        }
        return Arrays.copyOf(out, size);
    }

    /** jtokkit's encodeOrdinary of the whole text, as is (the reference {@link #encode} equals). */
    public int[] encodeUncached(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /** Decodes ids, including the end-of-text id, back to text. */
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= kind.vocabSize) {
                throw new IllegalArgumentException(
                        "token id " + id + " is outside " + kind.id + "'s vocabulary [0, " + kind.vocabSize + ")");
            }
            list.add(id);
        }
        return encoding.decode(list);
    }
}
