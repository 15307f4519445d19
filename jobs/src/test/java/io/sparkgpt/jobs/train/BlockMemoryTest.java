package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Block memory is reused, never freed under a block, and a network is not lent while blocks show its memory. */
class BlockMemoryTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    private static ByteBuffer filled(int bytes, int seed) {
        ByteBuffer b = BlockMemory.take(bytes);
        for (int i = 0; i < bytes; i++) {
            b.put(i, (byte) (i * 31 + seed));
        }
        return b;
    }

    /** Stores a pooled buffer of {@code bytes} as block {@code name}; returns a copy of what it held. */
    private static ByteBuffer store(String name, ByteBuffer pooled, StorageLevel level) {
        ByteBuffer expected = SparkBlocks.copyOf(pooled);
        SparkBlocks.putPooled(name, pooled, level);
        return expected;
    }

    private static ByteBuffer read(String name) {
        ByteBuffer[] out = new ByteBuffer[1];
        Set<Integer> missing = SparkBlocks.readAll(List.of(name), 1 << 20, (i, block) -> out[0] = SparkBlocks.copyOf(block.bytes())).join();
        assertTrue(missing.isEmpty(), name + " is stored");
        return out[0];
    }

    @Test
    void aPooledBlockKeepsItsBytesAndItsMemoryComesBackWhenTheBlockIsRemoved() {
        BlockMemory.clear();
        ByteBuffer pooled = filled(3_000_000, 7);
        ByteBuffer expected = store("sparkgpt-memtest-a", pooled, StorageLevel.MEMORY_AND_DISK_SER());
        assertEquals(expected, read("sparkgpt-memtest-a"));
        assertEquals(1, SparkBlocks.removeLocal("sparkgpt-memtest-a"::equals));
        // Spark's dispose of the removed block left the memory alone: it is handed out again, intact.
        ByteBuffer again = BlockMemory.take(3_000_000);
        assertSame(pooled, again, "the removed block's buffer, reused");
        assertEquals(expected, again);
    }

    @Test
    void aBlockFetchedThroughTheTransportArrivesWholeInPooledMemoryOfAnySizeAndCanBeKeptWithoutACopy() {
        ByteBuffer expected = store("sparkgpt-memtest-c", filled(3_000_000, 5), StorageLevel.MEMORY_AND_DISK_SER());
        for (int blockBytes : new int[] {1 << 20, 4 << 20}) { // smaller than the block (it grows), larger
            ByteBuffer[] out = new ByteBuffer[1];
            Set<Integer> missing = SparkBlocks.readThroughTransport(List.of("sparkgpt-memtest-c"), blockBytes,
                    (i, block) -> out[i] = block.keep()).join();
            assertEquals(Set.of(), missing);
            assertEquals(expected, out[0], "fetched into " + blockBytes + " bytes");
            assertNotSame(out[0], BlockMemory.take(out[0].capacity()), "handed over, not back in the pool");
        }
        SparkBlocks.removeLocal("sparkgpt-memtest-c"::equals);
    }

    @Test
    void aBlockWrittenToDiskGivesItsMemoryBackAtOnce() {
        BlockMemory.clear();
        ByteBuffer pooled = filled(2_500_000, 3);
        ByteBuffer expected = store("sparkgpt-memtest-b", pooled, StorageLevel.DISK_ONLY());
        assertSame(pooled, BlockMemory.take(2_500_000), "released after the write");
        pooled.put(0, (byte) 99);
        assertEquals(expected, read("sparkgpt-memtest-b"), "the disk copy does not see later writes");
        SparkBlocks.removeLocal("sparkgpt-memtest-b"::equals);
    }

    @Test
    void aNetworkIsNotLentWhileBlocksViewItsStateAndIsAfterTheyAreRemoved() {
        ComputationGraph net = GptNetwork.build(GptConfig.preset("tiny").withContextLength(8), 1, new Adam(1e-3),
                0.0, 1.0, DataType.FLOAT);
        FlatState state = new FlatState(net);
        ByteBuffer before = state.read(0, 1000);
        SparkBlocks.putView("sparkgpt-memtest-slice", state.view(0, 1000), net, StorageLevel.MEMORY_AND_DISK_SER());
        WorkerNetworks.borrow("memtest");
        WorkerNetworks.giveBack("memtest", net, List.of("sparkgpt-memtest-slice"));
        assertNull(WorkerNetworks.borrow("memtest"), "pinned by its slice");
        assertEquals(before, read("sparkgpt-memtest-slice"), "the slice shows the network's values");
        SparkBlocks.removeLocal("sparkgpt-memtest-slice"::equals);
        assertSame(net, WorkerNetworks.borrow("memtest"));
    }
}
