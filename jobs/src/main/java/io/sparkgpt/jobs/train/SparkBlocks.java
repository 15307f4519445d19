package io.sparkgpt.jobs.train;

import org.apache.spark.SparkEnv;
import org.apache.spark.storage.BlockData;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.storage.TestBlockId;
import org.apache.spark.util.io.ChunkedByteBuffer;
import scala.Option;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The one place that calls Spark's block manager directly: raw bytes stored in, and fetched
 * from, the block managers of the executors and the driver, over Spark's own transport (so
 * spark.authenticate and spark.network.crypto apply). This is Spark-internal API
 * ({@code private[spark]} in Scala, public in the bytecode), used as BigDL's AllReduceParameter
 * uses it: pinned to Spark 3.5.x and covered by the cluster ITs. Blocks are {@link TestBlockId}s,
 * Spark's id for blocks outside any RDD, broadcast or shuffle.
 */
final class SparkBlocks {
    private static final ClassTag<byte[]> BYTES = ClassTag$.MODULE$.apply(byte[].class);

    private SparkBlocks() {
    }

    private static BlockManager blockManager() {
        return SparkEnv.get().blockManager();
    }

    /** Stores the buffer's remaining bytes as block {@code name} in this JVM's block manager, told to the master. */
    static void put(String name, ByteBuffer bytes, StorageLevel level) {
        long size = bytes.remaining();
        if (!blockManager().putBytes(new TestBlockId(name), new ChunkedByteBuffer(bytes), level, true, BYTES)) {
            throw new IllegalStateException("Spark's block manager could not store block " + name + " (" + size
                    + " bytes, " + level + "): give the executors more memory (spark.executor.memory) or local disk "
                    + "(spark.local.dir)");
        }
    }

    /**
     * Hands the bytes of block {@code name} to {@code reader} as one buffer: from this JVM's block
     * manager if it holds the block, else fetched from one that does. Returns false if no live
     * block manager has it (its executor was lost).
     */
    static boolean read(String name, Consumer<ByteBuffer> reader) {
        BlockManager bm = blockManager();
        BlockId id = new TestBlockId(name);
        Option<BlockData> local = bm.getLocalBytes(id);
        if (local.isDefined()) {
            try {
                reader.accept(local.get().toByteBuffer());
            } finally {
                bm.releaseLock(id, Option.empty());
            }
            return true;
        }
        Option<ChunkedByteBuffer> remote = bm.getRemoteBytes(id);
        if (remote.isEmpty()) {
            return false;
        }
        ChunkedByteBuffer fetched = remote.get();
        // A fetch may arrive as several network buffers, split anywhere: join them (a copy) if so.
        ByteBuffer[] chunks = fetched.getChunks();
        reader.accept(chunks.length == 1 ? chunks[0] : fetched.toByteBuffer());
        return true;
    }

    /** Removes this JVM's blocks whose names match (a sweep of blocks no round needs any more). */
    static int removeLocal(Predicate<String> names) {
        BlockManager bm = blockManager();
        // A disk block is listed twice (its entry and its file).
        Set<BlockId> ids = new LinkedHashSet<>(JavaConverters.seqAsJavaList(bm.getMatchingBlockIds(new Matching(names))));
        for (BlockId id : ids) {
            bm.removeBlock(id, true);
        }
        return ids.size();
    }

    /** From the driver: asks every block manager holding block {@code name} to drop it. */
    static void removeEverywhere(String name) {
        blockManager().master().removeBlock(new TestBlockId(name));
    }

    /** The heap this JVM's block manager may fill with blocks (Spark's storage memory, at most). */
    static long storageMemory() {
        return SparkEnv.get().memoryManager().maxOnHeapStorageMemory();
    }

    /** Whether this application has executors besides the driver (else nothing can be replicated). */
    static boolean hasPeers() {
        return !blockManager().getPeers(false).isEmpty();
    }

    private static final class Matching extends AbstractFunction1<BlockId, Object> {
        private final Predicate<String> names;

        Matching(Predicate<String> names) {
            this.names = names;
        }

        @Override
        public Object apply(BlockId id) {
            return id instanceof TestBlockId && names.test(((TestBlockId) id).id());
        }
    }
}
