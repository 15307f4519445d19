package io.sparkgpt.jobs.train;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardMeanTest {
    /** Floats whose sums round differently in another order: the test fails if the order changes. */
    private static ByteBuffer[] slices(int workers, int floats) {
        SplittableRandom random = new SplittableRandom(workers);
        ByteBuffer[] out = new ByteBuffer[workers];
        for (int w = 0; w < workers; w++) {
            out[w] = BlockMemory.take(4 * floats);
            for (int i = 0; i < floats; i++) {
                out[w].putFloat(4 * i, (float) (random.nextDouble(-1, 1) * Math.pow(10, random.nextInt(-6, 7))));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void meanIsTheSumInWorkerOrderDividedByTheWorkersBitForBit(int workers) {
        int floats = 10_003; // not a multiple of any vector length: the tails count
        ByteBuffer[] slices = slices(workers, floats);
        ByteBuffer mean = ShardTransfer.mean(slices, floats);
        int reordered = 0;
        for (int i = 0; i < floats; i++) {
            float sum = slices[0].getFloat(4 * i);
            float backwards = slices[workers - 1].getFloat(4 * i);
            for (int w = 1; w < workers; w++) {
                sum += slices[w].getFloat(4 * i);
                backwards += slices[workers - 1 - w].getFloat(4 * i);
            }
            assertEquals(Float.floatToIntBits(sum / workers), Float.floatToIntBits(mean.order(ByteOrder.LITTLE_ENDIAN)
                    .getFloat(4 * i)), "float " + i);
            reordered += Float.compare(sum, backwards) != 0 ? 1 : 0;
        }
        assertEquals(4 * floats, mean.remaining());
        if (workers >= 3) { // the data can tell the orders apart
            assertTrue(reordered > 100, "only " + reordered + " sums depend on the order");
        }
    }
}
