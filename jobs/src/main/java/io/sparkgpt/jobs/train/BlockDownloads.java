package io.sparkgpt.jobs.train;

import org.apache.spark.network.buffer.ManagedBuffer;
import org.apache.spark.network.buffer.NioManagedBuffer;
import org.apache.spark.network.shuffle.DownloadFile;
import org.apache.spark.network.shuffle.DownloadFileManager;
import org.apache.spark.network.shuffle.DownloadFileWritableChannel;
import org.apache.spark.network.util.TransportConf;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where Spark streams the blocks {@link SparkBlocks#readAll} fetches: pooled memory of
 * {@code blockBytes} a block instead of temporary files.
 */
record BlockDownloads(int blockBytes) implements DownloadFileManager {
    /** A fetched block as the reader gets it: a downloaded one can be kept without a copy. */
    static FetchedBlock fetched(ManagedBuffer data) throws IOException {
        return new FetchedBlock(data.nioByteBuffer(), data instanceof Downloaded d ? d.download : null, false);
    }

    @Override
    public DownloadFile createTempFile(TransportConf conf) {
        return new Download(BlockMemory.take(blockBytes));
    }

    @Override
    public boolean registerTempFileToClean(DownloadFile download) {
        return false; // the fetcher then deletes it once its bytes were read: back to the pool
    }

    /** One block's bytes as they arrive, in a pooled buffer that grows (by a copy) if the block is larger. */
    static final class Download implements DownloadFile, DownloadFileWritableChannel {
        private ByteBuffer memory;

        Download(ByteBuffer memory) {
            this.memory = memory.clear();
        }

        @Override
        public synchronized int write(ByteBuffer bytes) {
            int length = bytes.remaining();
            if (length > memory.remaining()) {
                ByteBuffer larger = BlockMemory.take(Math.max(2 * memory.capacity(), memory.position() + length));
                larger.put(memory.flip());
                BlockMemory.giveBack(memory);
                memory = larger.limit(larger.capacity());
            }
            memory.put(bytes);
            return length;
        }

        @Override
        public synchronized ManagedBuffer closeAndRead() {
            return new Downloaded(memory.duplicate().flip(), this);
        }

        /** The bytes' pooled buffer, no longer this download's (so not given back when it is deleted). */
        synchronized ByteBuffer handOver() {
            ByteBuffer own = memory == null ? null : memory.flip();
            memory = null;
            return own;
        }

        @Override
        public synchronized boolean delete() {
            if (memory != null) {
                BlockMemory.giveBack(memory);
                memory = null;
            }
            return true;
        }

        @Override
        public DownloadFileWritableChannel openForWriting() {
            return this;
        }

        @Override
        public String path() {
            return "memory";
        }

        @Override
        public boolean isOpen() {
            return memory != null;
        }

        @Override
        public void close() {
        }
    }

    /** A downloaded block's bytes, with the download that holds them. */
    private static final class Downloaded extends NioManagedBuffer {
        private final Download download;

        Downloaded(ByteBuffer bytes, Download download) {
            super(bytes);
            this.download = download;
        }
    }
}
