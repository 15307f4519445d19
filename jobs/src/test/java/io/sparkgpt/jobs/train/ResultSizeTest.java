package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultSizeTest {
    /** GPT-2 small (untied head) at context 256: 161,829,888 parameters plus Adam's two moments. */
    static final long GPT2_SMALL_VALUES = 3L * 161_829_888;

    @Test
    void theDriverReceivesAsManyResultsAsSparksTreeAggregateLeavesForItsLastStage() {
        assertEquals(1, ResultSize.resultsAtDriver(1, 2), "1 worker");
        assertEquals(2, ResultSize.resultsAtDriver(2, 2), "2 workers");
        assertEquals(2, ResultSize.resultsAtDriver(8, 2), "8 workers: scale 3, 8 -> 2");
        assertEquals(5, ResultSize.resultsAtDriver(32, 2), "32 workers: scale 6, 32 -> 5");
        assertEquals(10, ResultSize.resultsAtDriver(128, 2), "128 workers: scale 12, 128 -> 10");
        assertEquals(3, ResultSize.resultsAtDriver(128, 3), "128 workers, depth 3: scale 6, 128 -> 21 -> 3");
    }

    @Test
    void aMaxResultSizeBelowOneRoundsResultsIsRefusedWithTheSettingToPass() {
        SparkConf defaults = new SparkConf(false);
        UserInputException e = assertThrows(UserInputException.class,
                () -> ResultSize.require(defaults, GPT2_SMALL_VALUES, 4, 2, 2));
        assertTrue(e.getMessage().contains("--conf spark.driver.maxResultSize=4g"), e.getMessage());
        assertDoesNotThrow(() -> ResultSize.require(defaults.clone().set("spark.driver.maxResultSize", "4g"),
                GPT2_SMALL_VALUES, 4, 2, 2));
        assertDoesNotThrow(() -> ResultSize.require(defaults.clone().set("spark.driver.maxResultSize", "0"),
                GPT2_SMALL_VALUES, 4, 128, 2), "0 means unlimited");
        assertDoesNotThrow(() -> ResultSize.require(defaults, 1_000_000, 4, 2, 2), "a tiny model fits 1g");
    }

    @Test
    void aStateOverTwoGigabytesIsRefusedForDl4jNamingSyncParams() {
        UserInputException e = assertThrows(UserInputException.class,
                () -> ResultSize.require(new SparkConf(false), 3L * 354_823_168, 4, 2, 2));
        assertTrue(e.getMessage().startsWith("a worker's parameters and optimizer state are 4.3 GB: --sync dl4j"),
                e.getMessage());
        assertTrue(e.getMessage().contains("use --sync params"), e.getMessage());
    }
}
