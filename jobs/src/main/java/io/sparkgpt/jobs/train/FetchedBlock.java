package io.sparkgpt.jobs.train;

import java.nio.ByteBuffer;

/**
 * A block as {@link SparkBlocks#readAll} hands it to its reader: its bytes, valid only during
 * the call, which the reader may {@linkplain #keep keep}.
 */
final class FetchedBlock {
    private final ByteBuffer bytes;
    private final boolean local;
    private BlockDownloads.Download download;

    FetchedBlock(ByteBuffer bytes, BlockDownloads.Download download, boolean local) {
        this.bytes = bytes;
        this.download = download;
        this.local = local;
    }

    /** Whether the block was read from this JVM's block manager (its bytes are the stored block's memory). */
    boolean local() {
        return local;
    }

    ByteBuffer bytes() {
        return bytes;
    }

    /**
     * The bytes in pooled memory that is the caller's from now on (to store with
     * {@link SparkBlocks#putPooled} or give back): a fetched block's own buffer, handed over, or a copy.
     */
    ByteBuffer keep() {
        ByteBuffer own = download != null ? download.handOver() : null;
        download = null;
        return own != null ? own : SparkBlocks.copyOf(bytes);
    }
}
