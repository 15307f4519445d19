package io.sparkgpt.jobs.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.tokenization.BookSplit;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.SlidingWindows;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokenize job on embedded local Spark, against the book's numbers and plain recomputation. */
class TokenizeJobTest {
    static final Path VERDICT = Path.of("..", "data", "the-verdict.txt").toAbsolutePath();
    static SparkSession spark;
    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stopSpark() {
        LocalSpark.stop(spark);
    }

    static TokenizeConfig config(Path output, Path... inputs) {
        return TokenizeConfig.defaults(java.util.Arrays.stream(inputs).map(Path::toString).toList(), output.toString());
    }

    static List<int[]> windows(Path dataset, String split) {
        return spark.read().parquet(dataset.resolve(split).toString()).orderBy("shard", "offset").collectAsList()
                .stream().map(r -> DatasetFormat.decode((byte[]) r.get(0), 2)).toList();
    }

    @Test
    void theVerdictGivesTheBooksSplitAndWindowsAndDatasetJsonSaysSo() throws IOException {
        Path out = tmp.resolve("verdict");
        TokenizeResult result = TokenizeJob.run(spark, config(out, VERDICT));

        DatasetStats s = result.manifest().stats();
        assertEquals(new DatasetStats.SplitStats(1, 4612, 18, 1), s.train(), "train split as in the book");
        assertEquals(new DatasetStats.SplitStats(1, 534, 2, 1), s.val(), "val split as in the book");
        assertEquals("character_mark", result.manifest().splitMethod());

        Tokenizer gpt2 = Tokenizer.shared("r50k_base");
        BookSplit.Parts parts = BookSplit.split(Files.readString(VERDICT), 0.1);
        assertWindowsEqual(SlidingWindows.of(gpt2.encode(parts.train()), 256, 256), windows(out, "train"), "train");
        assertWindowsEqual(SlidingWindows.of(gpt2.encode(parts.val()), 256, 256), windows(out, "val"), "val");

        JsonNode json = new ObjectMapper().readTree(out.resolve("dataset.json").toFile());
        assertEquals("r50k_base", json.get("encoding").asText());
        assertEquals(50257, json.get("vocab_size").asInt());
        assertEquals(50256, json.get("eot_id").asInt());
        assertEquals(256, json.get("max_length").asInt());
        assertEquals(256, json.get("stride").asInt());
        assertEquals(18, json.get("train").get("windows").asLong(), "dataset.json train windows");
        assertEquals(windows(out, "train").size(), json.get("train").get("windows").asInt(), "json = parquet");
        assertEquals(windows(out, "val").size(), json.get("val").get("windows").asInt(), "json = parquet");
        assertEquals(4612, json.get("train").get("tokens").asLong());
        assertEquals(0.1, json.get("config").get("val_fraction").asDouble(), "effective config is written");
    }

    static void assertWindowsEqual(List<int[]> expected, List<int[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + " window count");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(257, actual.get(i).length, what + " window " + i + " holds max_length + 1 ids");
            assertArrayEquals(expected.get(i), actual.get(i), what + " window " + i);
        }
    }

    @Test
    void windowOffsetsPointIntoTheShardStreamSoTargetsAreInputsShiftedByOne() throws IOException {
        Path out = tmp.resolve("offsets");
        TokenizeJob.run(spark, config(out, VERDICT).withWindows(16, 7).withValFraction(0));
        int[] stream = Tokenizer.shared("r50k_base").encode(Files.readString(VERDICT));
        List<Row> rows = spark.read().parquet(out.resolve("train").toString()).orderBy("offset").collectAsList();
        assertEquals((stream.length - 16 + 6) / 7, rows.size(), "range(0, n - 16, 7)");
        for (Row row : rows) {
            long offset = row.getLong(2);
            int[] ids = DatasetFormat.decode((byte[]) row.get(0), 2);
            for (int j = 0; j < ids.length; j++) {
                assertEquals(stream[(int) offset + j], ids[j], "window at " + offset + " id " + j);
            }
        }
    }

    @Test
    void linesAreReadExactlyOnceWhateverTheShardSize() throws IOException {
        Path corpus = tmp.resolve("corpus.txt");
        Files.copy(VERDICT, corpus);
        long nonEmptyLines = Files.readAllLines(corpus).stream().filter(l -> !l.isBlank()).count();
        Tokenizer gpt2 = Tokenizer.shared("r50k_base");
        long lineTokens = Files.readAllLines(corpus).stream().filter(l -> !l.isBlank())
                .mapToLong(l -> gpt2.encode(l).length).sum();
        DatasetStats previous = null;
        for (double shardMb : new double[] {64, 0.004, 0.0011}) {
            TokenizeConfig c = config(tmp.resolve("lines" + shardMb), corpus).withFormat(InputFormat.LINES)
                    .withWindows(32, 32).withShardSizeMb(shardMb);
            DatasetStats s = TokenizeJob.run(spark, c).manifest().stats();
            long documents = s.train().documents() + s.val().documents();
            assertEquals(nonEmptyLines, documents, "every non-empty line once, shard size " + shardMb + " MB");
            if (shardMb == 64) {
                // One shard: a train and a val stream, each with documents - 1 end-of-text separators.
                assertEquals(lineTokens + documents - 2, s.train().tokens() + s.val().tokens(), "tokens");
            } else {
                assertEquals(previous.val().documents(), s.val().documents(), "the split ignores sharding");
            }
            previous = s;
        }
    }

    @Test
    void publishedDatasetLeavesNoTemporaryFilesBehind() throws IOException {
        Path out = tmp.resolve("clean");
        TokenizeJob.run(spark, config(out, VERDICT));
        try (var siblings = Files.list(tmp)) {
            assertEquals(List.of("clean"), siblings.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (var files = Files.list(out)) {
            assertEquals(List.of("_SUCCESS", "dataset.json", "train", "val"),
                    files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                            .sorted(Comparator.naturalOrder()).toList());
        }
        assertTrue(Files.exists(out.resolve("dataset.json")));
    }
}
