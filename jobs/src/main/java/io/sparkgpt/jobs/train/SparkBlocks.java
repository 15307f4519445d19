package io.sparkgpt.jobs.train;

import org.apache.spark.SparkEnv;
import org.apache.spark.network.buffer.ManagedBuffer;
import org.apache.spark.network.shuffle.BlockFetchingListener;
import org.apache.spark.storage.BlockData;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.storage.TestBlockId;
import org.apache.spark.util.io.ChunkedByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;
import scala.collection.Seq;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
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
    private static final Logger LOG = LoggerFactory.getLogger(SparkBlocks.class);
    private static final ClassTag<byte[]> BYTES = ClassTag$.MODULE$.apply(byte[].class);
    /** What holds the memory of this JVM's view blocks, by block name (see {@link #putView}). */
    private static final Map<String, Object> MEMORY = new ConcurrentHashMap<>();

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
     * Stores {@code view} (made by {@link BlockMemory#view}: Spark does not free it) as block
     * {@code name}, keeping {@code owner}, what holds its memory, alive while the block is here. An
     * owner that is a pooled buffer returns to the pool once the block is gone (see {@link #removeLocal}).
     * A block already here is kept (a task run again stores the same bytes) and {@code owner} released,
     * as it is at once at a level without memory (the bytes are on disk then).
     */
    static synchronized void putView(String name, ByteBuffer view, Object owner, StorageLevel level) {
        if (holds(name)) { // Spark keeps the block it has
            release(owner);
            return;
        }
        Object stale = MEMORY.put(name, owner); // a block removed since the last reclaim
        if (stale != null) {
            release(stale);
        }
        boolean viewed = false;
        try {
            put(name, view, level);
            viewed = level.useMemory(); // else written to disk: the block no longer needs the memory
        } finally {
            if (!viewed) {
                MEMORY.remove(name);
                release(owner);
            }
        }
    }

    /** Stores {@code pooled} (from {@link BlockMemory#take}, handed over) as block {@code name}. */
    static void putPooled(String name, ByteBuffer pooled, StorageLevel level) {
        putView(name, BlockMemory.view(pooled, pooled.position(), pooled.remaining()), pooled, level);
    }

    private static void release(Object owner) {
        if (owner instanceof ByteBuffer pooled) {
            BlockMemory.giveBack(pooled);
        }
    }

    /** A pooled buffer holding the remaining bytes of {@code bytes}. */
    static ByteBuffer copyOf(ByteBuffer bytes) {
        ByteBuffer copy = BlockMemory.take(bytes.remaining());
        copy.put(bytes.duplicate()).flip();
        return copy;
    }

    /**
     * Hands the bytes of every named block to {@code reader} (its index in {@code names}, then
     * the bytes, valid only during the call): from this JVM's block manager if it holds the block,
     * else fetched from one that does, all of one executor's blocks in one request. Calls may come
     * from several threads at once (one a remote executor). The future completes when every block
     * was read, with the indexes of those no live block manager has (their executor was lost).
     * <p>
     * Remote blocks go through the block transfer service directly, not BlockManager.getRemoteBytes,
     * which copies every fetched block into a new heap array: at 32 MB a block those humongous
     * allocations and the GC cycles they start cost more than the transfer. They are streamed
     * (Spark's protocol for fetching to disk) into pooled memory of {@code blockBytes}, the
     * largest block's size, not fetched as chunks: a chunk is one frame, which Spark's frame
     * decoder gathers in fresh 20 MB buffers and {@code nioByteBuffer()} copies once more.
     */
    static CompletableFuture<Set<Integer>> readAll(List<String> names, int blockBytes,
                                                   BiConsumer<Integer, FetchedBlock> reader) {
        BlockManager bm = blockManager();
        Set<Integer> missing = ConcurrentHashMap.newKeySet();
        List<Integer> remote = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (!readLocal(bm, new TestBlockId(names.get(i)), i, reader)) {
                remote.add(i);
            }
        }
        if (remote.isEmpty()) {
            return CompletableFuture.completedFuture(missing);
        }
        BlockId[] ids = remote.stream().map(i -> new TestBlockId(names.get(i))).toArray(BlockId[]::new);
        Seq<Seq<BlockManagerId>> locations = bm.master().getLocations(ids);
        Map<BlockManagerId, List<Integer>> bySource = new LinkedHashMap<>();
        for (int k = 0; k < ids.length; k++) {
            BlockManagerId from = source(bm, locations.apply(k), remote.get(k));
            if (from == null) {
                missing.add(remote.get(k));
            } else {
                bySource.computeIfAbsent(from, x -> new ArrayList<>()).add(remote.get(k));
            }
        }
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        bySource.forEach((from, indexes) -> fetches.add(fetch(bm, from, names, indexes, blockBytes, reader, missing)));
        return CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).thenApply(x -> missing);
    }

    private static boolean readLocal(BlockManager bm, BlockId id, int index, BiConsumer<Integer, FetchedBlock> reader) {
        Option<BlockData> local = bm.getLocalBytes(id);
        if (local.isEmpty()) {
            return false;
        }
        try {
            reader.accept(index, new FetchedBlock(local.get().toByteBuffer(), null, true));
        } finally {
            bm.releaseLock(id, Option.empty());
        }
        return true;
    }

    /** One of the block's holders other than this JVM, spread over the copies by block index. */
    private static BlockManagerId source(BlockManager bm, Seq<BlockManagerId> holders, int index) {
        List<BlockManagerId> others = new ArrayList<>();
        for (BlockManagerId id : JavaConverters.seqAsJavaList(holders)) {
            if (!id.equals(bm.blockManagerId())) {
                others.add(id);
            }
        }
        return others.isEmpty() ? null : others.get(Math.floorMod(index + bm.blockManagerId().hashCode(), others.size()));
    }

    /**
     * Reads the named blocks of this JVM's block manager through the block transfer service, as
     * another executor would fetch them (tests: local mode has no other block manager).
     */
    static CompletableFuture<Set<Integer>> readThroughTransport(List<String> names, int blockBytes,
                                                                BiConsumer<Integer, FetchedBlock> reader) {
        BlockManager bm = blockManager();
        Set<Integer> missing = ConcurrentHashMap.newKeySet();
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            all.add(i);
        }
        return fetch(bm, bm.blockManagerId(), names, all, blockBytes, reader, missing).thenApply(x -> missing);
    }

    private static CompletableFuture<Void> fetch(BlockManager bm, BlockManagerId from, List<String> names,
                                                 List<Integer> indexes, int blockBytes,
                                                 BiConsumer<Integer, FetchedBlock> reader, Set<Integer> missing) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Map<String, Integer> byId = new LinkedHashMap<>(); // in request order: blocks arrive in it
        for (int i : indexes) {
            byId.put(new TestBlockId(names.get(i)).name(), i);
        }
        AtomicInteger left = new AtomicInteger(indexes.size());
        BlockFetchingListener listener = new BlockFetchingListener() {
            @Override
            public void onBlockFetchSuccess(String blockId, ManagedBuffer data) {
                try {
                    reader.accept(byId.get(blockId), BlockDownloads.fetched(data));
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
                arrived();
            }

            @Override
            public void onBlockFetchFailure(String blockId, Throwable cause) {
                LOG.warn("block {} could not be fetched from {}: {}", blockId, from, cause.toString());
                missing.add(byId.get(blockId));
                arrived();
            }

            private void arrived() {
                if (left.decrementAndGet() == 0) {
                    done.complete(null);
                }
            }
        };
        bm.blockTransferService().fetchBlocks(from.host(), from.port(), from.executorId(),
                byId.keySet().toArray(String[]::new), listener, new BlockDownloads(blockBytes));
        return done;
    }

    /** A pooled copy of this JVM's block {@code name} (which must be here). */
    static ByteBuffer localCopy(String name) {
        ByteBuffer[] copy = new ByteBuffer[1];
        if (!readLocal(blockManager(), new TestBlockId(name), 0, (i, block) -> copy[0] = copyOf(block.bytes()))) {
            throw new IllegalStateException("block " + name + " is not in this JVM's block manager");
        }
        return copy[0];
    }

    /** Whether this JVM's block manager holds block {@code name}. */
    static boolean holds(String name) {
        return blockManager().getStatus(new TestBlockId(name)).isDefined();
    }

    /**
     * Removes this JVM's blocks whose names match (a sweep of blocks no round needs any more).
     * One sweep at a time: tasks of one executor sweep the same blocks, and removing a block
     * another sweep removed first is an error in Spark.
     */
    static synchronized int removeLocal(Predicate<String> names) {
        BlockManager bm = blockManager();
        // A disk block is listed twice (its entry and its file).
        Set<BlockId> ids = new LinkedHashSet<>(JavaConverters.seqAsJavaList(bm.getMatchingBlockIds(new Matching(names))));
        for (BlockId id : ids) {
            bm.removeBlock(id, true);
        }
        reclaim();
        return ids.size();
    }

    /** Lets go of the memory of view blocks no longer here (removed by this JVM or at the driver's request). */
    private static void reclaim() {
        for (Map.Entry<String, Object> held : MEMORY.entrySet()) {
            if (!holds(held.getKey()) && MEMORY.remove(held.getKey(), held.getValue())) {
                release(held.getValue());
            }
        }
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
