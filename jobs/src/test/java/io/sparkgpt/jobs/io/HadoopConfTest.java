package io.sparkgpt.jobs.io;

import io.sparkgpt.jobs.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class HadoopConfTest {
    /** The property's value as a task reads it from the broadcast. */
    private static String inTask(JavaSparkContext jsc, Broadcast<HadoopConf> conf, String key) {
        return jsc.parallelize(List.of(1), 1).map(i -> conf.value().get().get(key, "unset")).collect().get(0);
    }

    @Test
    void theBroadcastIsReusedUntilAPropertyChangesThenTasksSeeTheNewValue() {
        SparkSession spark = LocalSpark.start();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.hadoopConfiguration().set("sparkgpt.test.key", "a");
            Broadcast<HadoopConf> first = HadoopConf.broadcast(jsc);
            assertEquals(first.id(), HadoopConf.broadcast(jsc).id());
            assertEquals("a", inTask(jsc, first, "sparkgpt.test.key"));

            jsc.hadoopConfiguration().set("sparkgpt.test.key", "b");
            Broadcast<HadoopConf> second = HadoopConf.broadcast(jsc);
            assertNotEquals(first.id(), second.id());
            assertEquals("b", inTask(jsc, second, "sparkgpt.test.key"));
            assertEquals("a", inTask(jsc, first, "sparkgpt.test.key"), "a broadcast is a snapshot");
        } finally {
            LocalSpark.stop(spark);
        }
    }
}
