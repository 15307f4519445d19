package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An owner's two sides: a round's end is published as views of one side, the next round writes
 * the other, and the state a round may restart from is never written under its blocks.
 */
class OwnerSidesTest {
    private static final int LENGTH = 1000;
    private static final StorageLevel LEVEL = StorageLevel.MEMORY_AND_DISK_SER();
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    private static GradientBlocks blocks(String run) {
        return new GradientBlocks(new StateLayout(run, 2L * LENGTH, 0, 2, 400)); // shard 0: 1000 floats in 3 chunks
    }

    /** Fills the current side with {@code value} and publishes it as step s (kept: with moments). */
    private static void stepTo(GradientBlocks b, OwnerArrays a, long s, float value, boolean kept) {
        a.params().assign(value);
        a.m().assign(value + 0.5f);
        a.v().assign(value + 0.25f);
        b.storeOwnerState(a, 0, s, kept, LEVEL);
    }

    /** Shard 0's kept blocks of step s read back: parameters, m, v (null: a block is gone). */
    private static float[][] readKept(GradientBlocks b, long s) {
        OwnerArrays into = OwnerArrays.scratch(LENGTH);
        if (!b.loadOwnerState(into, 0, s, s)) {
            return null;
        }
        return new float[][]{into.params().toFloatVector(), into.m().toFloatVector(), into.v().toFloatVector()};
    }

    private static float[] filled(float value) {
        float[] out = new float[LENGTH];
        java.util.Arrays.fill(out, value);
        return out;
    }

    @Test
    void theNextRoundWritesTheOtherSideAndThenDropsTheRoundBeforeIt() {
        GradientBlocks b = blocks("sides-a");
        OwnerArrays a = OwnerArrays.of("sides-a", 0, LENGTH);
        stepTo(b, a, 5, 1f, true);                                      // round (0, 5] ends on side 0
        assertEquals(1, b.writableSide(a, 0, 5), "the round after 5 writes the side not holding step 5");
        a.use(1);
        stepTo(b, a, 6, 2f, false);
        assertArrayEquals(filled(1f), readKept(b, 5)[0], "step 5's parameters, untouched");
        assertEquals(1, b.writableSide(a, 0, 5), "within the round: in place");
        stepTo(b, a, 10, 3f, true);                                     // round (5, 10] ends on side 1

        assertEquals(0, b.writableSide(a, 0, 10), "the round after 10 writes side 0 again");
        assertTrue(readKept(b, 5) == null, "step 5's blocks are gone with the side they showed");
        assertArrayEquals(filled(3.5f), readKept(b, 10)[1], "step 10's m");
        SparkBlocks.removeLocal(name -> name.startsWith("sparkgpt-sides-a-"));
    }

    @Test
    void aRestartAfterALostAttemptKeepsBothStatesItMayNeed() {
        GradientBlocks b = blocks("sides-b");
        OwnerArrays a = OwnerArrays.of("sides-b", 0, LENGTH);
        stepTo(b, a, 5, 1f, true);
        a.use(b.writableSide(a, 0, 5));
        stepTo(b, a, 10, 3f, true); // the attempt's end here; another owner lost its part: round (5, 10] again

        assertTrue(b.loadOwnerState(a, 0, 5, 5), "the restart starts from step 5");
        assertEquals(0, a.current(), "step 5's own side, without a read");
        int into = b.writableSide(a, 0, 5);
        assertEquals(1, into, "the restart's first update writes side 1");
        a.use(into);
        a.params().assign(7f); // the update writes side 1; step 10's blocks were copied off it first
        assertArrayEquals(filled(3f), readKept(b, 10)[0], "the lost attempt's step 10, as copies");
        assertArrayEquals(filled(1.25f), readKept(b, 5)[2], "step 5's v, untouched");
        Set<String> left = Set.copyOf(List.of(b.params(5, 0, 0), b.secondMoments(10, 0, 2)));
        assertFalse(left.stream().anyMatch(name -> !SparkBlocks.holds(name)), "both steps' blocks are kept");
        SparkBlocks.removeLocal(name -> name.startsWith("sparkgpt-sides-b-"));
    }
}
