package io.sparkgpt.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;

/**
 * glibc's own allocator counters (mallinfo2, glibc 2.33+): ND4J's buffers, OpenBLAS and every
 * other native allocation of this JVM go through glibc's malloc, so these see them all.
 */
final class NativeHeap {

    /** struct mallinfo2 of malloc.h: ten size_t counters, summed over all arenas. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost"})
    public static class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    private interface LibC extends Library {
        LibC C = Native.load("c", LibC.class);

        MallInfo2 mallinfo2();
    }

    private NativeHeap() {
    }

    /** Bytes the program holds from malloc: in use in the arenas plus chunks mmapped on their own. */
    static long bytesInUse() {
        MallInfo2 info = LibC.C.mallinfo2();
        return info.uordblks + info.hblkhd;
    }
}
