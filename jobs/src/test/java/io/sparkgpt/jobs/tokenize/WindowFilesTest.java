package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class WindowFilesTest {
    static SparkSession spark;

    @TempDir
    java.nio.file.Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stopSpark() {
        LocalSpark.stop(spark);
    }

    private static void write(Path file, Configuration conf, WindowFiles.Window... windows) throws IOException {
        try (ParquetWriter<WindowFiles.Window> w = WindowFiles.writer(file, conf)) {
            for (WindowFiles.Window window : windows) {
                w.write(window);
            }
        }
    }

    private static List<String> names(java.nio.file.Path directory) throws IOException {
        try (Stream<java.nio.file.Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void keepsOnlyReportedAttemptsAndGivesAnEmptySplitAFileSparkReadsWithTheSchema() throws IOException {
        Configuration conf = new Configuration();
        Path dataset = new Path(tmp.toUri());
        FileSystem fs = dataset.getFileSystem(conf);
        Path winner = WindowFiles.file(dataset, "train", 3, 1);
        write(WindowFiles.file(dataset, "train", 3, 0), conf, new WindowFiles.Window(new byte[] {9, 9}, 3, 0));
        write(winner, conf, new WindowFiles.Window(new byte[] {1, 0, 2, 0}, 3, 0),
                new WindowFiles.Window(new byte[] {3, 0, 4, 0}, 3, 1));

        WindowFiles.keepOnly(fs, dataset, List.of(winner.toUri().getPath()), conf);

        assertEquals(List.of("part-00003-1.zstd.parquet"), names(tmp.resolve("train")));
        assertEquals(List.of("part-empty.zstd.parquet"), names(tmp.resolve("val")));
        assertEquals(List.of("_SUCCESS", "train", "val"), names(tmp));
        Dataset<Row> train = spark.read().parquet(tmp.resolve("train").toString());
        // Spark reads every file source as nullable (as it did the files its own writer wrote).
        assertEquals(WindowFiles.SPARK_SCHEMA.asNullable(), train.schema());
        List<Row> rows = train.orderBy("offset").collectAsList();
        assertEquals(2, rows.size());
        assertArrayEquals(new byte[] {3, 0, 4, 0}, (byte[]) rows.get(1).get(0));
        assertEquals(3, rows.get(1).getInt(1));
        assertEquals(1L, rows.get(1).getLong(2));
        Dataset<Row> val = spark.read().parquet(tmp.resolve("val").toString());
        assertEquals(WindowFiles.SPARK_SCHEMA.asNullable(), val.schema());
        assertEquals(0, val.count());
    }
}
