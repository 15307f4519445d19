package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sparkgpt.jobs.tokenize.TokenizeJobTest.VERDICT;
import static io.sparkgpt.jobs.tokenize.TokenizeJobTest.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each bad input gets its clear error naming it and the fix (or, with --skip-bad-records, is
 * skipped and counted); nothing half-written remains.
 */
class TokenizeBadInputTest {
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

    /**
     * Two documents whose split hangs on the hash of their random temporary path: 1 run in 100
     * would put both in val and fail for "0 training tokens", a reason these tests are not about.
     */
    private static TokenizeConfig allTrain(Path output, Path corpus) {
        return config(output, corpus).withValFraction(0);
    }

    private String failure(TokenizeConfig config) {
        UserInputException e = assertThrows(UserInputException.class, () -> TokenizeJob.run(spark, config));
        assertFalse(Files.exists(Path.of(config.output())), "nothing published at " + config.output());
        try (var siblings = Files.list(Path.of(config.output()).getParent())) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().contains(".tmp-")),
                    "no temporary output left behind");
        } catch (IOException io) {
            throw new AssertionError(io);
        }
        return e.getMessage();
    }

    @Test
    void aMissingInputIsNamed() {
        String message = failure(config(tmp.resolve("out"), tmp.resolve("no-such-file.txt")));
        assertTrue(message.contains("no-such-file.txt") && message.contains("does not exist"), message);
    }

    @Test
    void anEmptyCorpusIsRefused() throws IOException {
        Files.createDirectories(tmp.resolve("empty-dir"));
        assertTrue(failure(config(tmp.resolve("out"), tmp.resolve("empty-dir"))).contains("holds no files"));
        Files.writeString(tmp.resolve("empty.txt"), "");
        String message = failure(config(tmp.resolve("out"), tmp.resolve("empty.txt")));
        assertTrue(message.contains("has no documents") && message.contains("empty_document=1"), message);
    }

    @Test
    void aCorpusShorterThanOneWindowIsRefusedWithTheFix() throws IOException {
        Files.writeString(tmp.resolve("short.txt"), "Too short for a window of 256 ids.");
        String message = failure(config(tmp.resolve("out"), tmp.resolve("short.txt")));
        assertTrue(message.contains("fewer than one window") && message.contains("lower --max-length"), message);
    }

    @Test
    void anExistingOutputNeedsOverwrite() throws IOException {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "user data");
        UserInputException e = assertThrows(UserInputException.class,
                () -> TokenizeJob.run(spark, config(out, VERDICT)));
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("--overwrite"));
        assertTrue(Files.exists(out.resolve("keep.txt")), "the existing output is untouched");
        TokenizeJob.run(spark, config(out, VERDICT).withOutput(out.toString(), true));
        assertFalse(Files.exists(out.resolve("keep.txt")), "--overwrite replaces it");
        assertTrue(Files.exists(out.resolve("dataset.json")));
    }

    @Test
    void aBinaryFileFailsTheJobNamingItOrIsSkippedAndCountedOnRequest() throws IOException {
        Path corpus = Files.createDirectories(tmp.resolve("corpus"));
        Files.copy(VERDICT, corpus.resolve("a.txt"));
        Files.copy(VERDICT, corpus.resolve("b.txt"));
        Files.write(corpus.resolve("image.bin"), new byte[] {'G', 'I', 'F', 0, 1, 2, 3});
        String message = failure(allTrain(tmp.resolve("strict"), corpus));
        assertTrue(message.contains("image.bin looks binary") && message.contains("--skip-bad-records"), message);
        DatasetStats s = TokenizeJob.run(spark, allTrain(tmp.resolve("out"), corpus).withSkipBadRecords(true))
                .manifest().stats();
        assertEquals(Map.of("binary_file", 1L), s.skipped());
        assertEquals(2, s.documents(), "the two text files");
        assertTrue(s.skippedExamples().get(0).file().endsWith("image.bin"));
    }

    @Test
    void invalidUtf8FailsTheJobNamingTheFileOrIsReplacedAndCountedOnRequest() throws IOException {
        Path corpus = Files.createDirectories(tmp.resolve("corpus"));
        Files.copy(VERDICT, corpus.resolve("good.txt"));
        byte[] bad = Files.readAllBytes(VERDICT);
        bad[100] = (byte) 0xC3; // a lead byte followed by ASCII: malformed
        Files.write(corpus.resolve("bad.txt"), bad);
        String message = failure(allTrain(tmp.resolve("strict"), corpus));
        assertTrue(message.contains("invalid UTF-8 in") && message.contains("bad.txt")
                && message.contains("--skip-bad-records"), message);
        DatasetStats s = TokenizeJob.run(spark, allTrain(tmp.resolve("out"), corpus).withSkipBadRecords(true))
                .manifest().stats();
        assertEquals(1, s.invalidUtf8Documents(), "one document had invalid UTF-8 replaced");
    }

    @Test
    void badJsonLinesFailTheJobOrAreSkippedWithTheirFileAndLineNumberEvenAcrossShards() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 400; i++) {
            lines.add(switch (i) {
                case 57 -> "{not json";
                case 211 -> "{\"title\": \"no text field\"}";
                case 390 -> "[1, 2, 3]";
                default -> "{\"text\": \"Line " + i + " of a document about tea and the sunlit terraces.\"}";
            });
        }
        Path file = tmp.resolve("docs.jsonl");
        Files.write(file, lines, StandardCharsets.UTF_8);
        String message = failure(config(tmp.resolve("strict"), file).withFormat(InputFormat.JSONL).withWindows(16, 16));
        long line57 = String.join("\n", lines.subList(0, 56)).length() + 1;
        assertTrue(message.contains("the line at byte " + line57 + " of ") && message.contains("docs.jsonl is not JSON")
                && message.contains("--skip-bad-records"), message);
        Files.write(file, lines.subList(100, 300), StandardCharsets.UTF_8); // only line 211: no text field
        message = failure(config(tmp.resolve("strict"), file).withFormat(InputFormat.JSONL).withWindows(16, 16));
        assertTrue(message.contains("has no string field 'text'") && message.contains("--text-field"), message);
        Files.write(file, lines, StandardCharsets.UTF_8);
        for (double shardMb : new double[] {64, 0.002}) {
            TokenizeConfig c = config(tmp.resolve("out" + shardMb), file).withFormat(InputFormat.JSONL)
                    .withWindows(16, 16).withShardSizeMb(shardMb).withSkipBadRecords(true);
            DatasetStats s = TokenizeJob.run(spark, c).manifest().stats();
            assertEquals(Map.of("invalid_json", 1L, "missing_text_field", 2L), s.skipped(), "shard " + shardMb);
            assertEquals(397, s.documents());
            assertEquals(List.of("57 invalid_json", "211 missing_text_field", "390 missing_text_field"),
                    s.skippedExamples().stream().map(e -> e.line() + " " + e.reason()).toList(),
                    "line numbers in the file, shard size " + shardMb + " MB");
        }
    }

    @Test
    void aTextDocumentOverTheLimitIsRefusedSuggestingLinesMode() throws IOException {
        TokenizeConfig c = new TokenizeConfig(List.of(VERDICT.toString()), tmp.resolve("out").toString(),
                InputFormat.TEXT, "text", "r50k_base", 256, 256, 0.1, 0, false, false, 64, 0.01);
        String message = failure(c);
        assertTrue(message.contains("larger than --max-document-mb") && message.contains("--format lines"), message);
    }

    @Test
    void anOversizedLineFailsTheJobOrIsSkippedWithoutBufferingIt() throws IOException {
        Path file = tmp.resolve("long-line.txt");
        String verdict = Files.readString(VERDICT);
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            out.write((verdict + "\n").getBytes(StandardCharsets.UTF_8));
            byte[] megabyte = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 100; i++) {
                out.write(megabyte); // one 100 MB line: over the default --max-document-mb of 64
            }
            out.write(("\n" + verdict).getBytes(StandardCharsets.UTF_8));
        }
        TokenizeConfig c = new TokenizeConfig(List.of(file.toString()), tmp.resolve("out").toString(),
                InputFormat.LINES, "text", "r50k_base", 64, 64, 0.1, 0, false, false, 64, 64);
        String message = failure(c);
        long offset = verdict.length() + 1; // ASCII: chars are bytes
        assertTrue(message.contains("the line at byte " + offset + " of ") && message.contains("long-line.txt is "
                + "longer than --max-document-mb") && message.contains("--skip-bad-records"), message);
        DatasetStats s = TokenizeJob.run(spark, c.withSkipBadRecords(true)).manifest().stats();
        assertEquals(Map.of("oversized_document", 1L), s.skipped());
        long verdictLines = verdict.lines().count();
        assertEquals(verdictLines + 1, s.skippedExamples().get(0).line(), "the long line's number");
    }

    @Test
    void parquetInputReadsTheTextColumnAndCountsNulls() throws IOException {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("body", DataTypes.StringType);
        String verdict = Files.readString(VERDICT);
        spark.createDataFrame(List.of(RowFactory.create(1, verdict), RowFactory.create(2, null),
                RowFactory.create(3, verdict.substring(0, 5000))), schema)
                .write().parquet(tmp.resolve("pq").toString());
        TokenizeConfig c = new TokenizeConfig(List.of(tmp.resolve("pq").toString()), tmp.resolve("out").toString(),
                InputFormat.PARQUET, "body", "r50k_base", 64, 64, 0.0, 0, false, false, 64, 64);
        DatasetStats s = TokenizeJob.run(spark, c).manifest().stats();
        assertEquals(2, s.documents());
        assertEquals(Map.of("null_text", 1L), s.skipped());
        TokenizeConfig wrongColumn = new TokenizeConfig(c.inputs(), tmp.resolve("out2").toString(),
                InputFormat.PARQUET, "text", "r50k_base", 64, 64, 0.0, 0, false, false, 64, 64);
        String message = failure(wrongColumn);
        assertTrue(message.contains("no string column 'text'") && message.contains("id, body"), message);
    }

    @Test
    void anOutputBelowAFileIsRefusedBeforeAnyWork() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        String message = assertThrows(UserInputException.class,
                () -> TokenizeJob.run(spark, config(file.resolve("out"), VERDICT))).getMessage();
        assertTrue(message.contains("cannot write output") && message.contains("a-file/out"), message);
        assertTrue(message.contains("choose a location you can write to"), message);
    }

    @Test
    void aFullDiskFailsTheJobNamingTheOutputAndPublishesNothing() throws IOException {
        var hadoop = spark.sparkContext().hadoopConfiguration();
        hadoop.set("fs.quota.impl", io.sparkgpt.jobs.QuotaFileSystem.class.getName());
        hadoop.setBoolean("fs.quota.impl.disable.cache", true);
        // The windows hold all of the corpus's 5,145 ids: no compression gets them under 4 KB.
        hadoop.setLong(io.sparkgpt.jobs.QuotaFileSystem.QUOTA_KEY, 4_000);
        io.sparkgpt.jobs.QuotaFileSystem.reset();
        try {
            TokenizeConfig c = config(tmp.resolve("unused"), VERDICT).withWindows(256, 1);
            TokenizeConfig full = new TokenizeConfig(c.inputs(), "quota://" + tmp.resolve("out"), c.format(),
                    c.textField(), c.encoding(), 256, 1, c.valFraction(), c.seed(), false, false, c.shardSizeMb(),
                    c.maxDocumentMb());
            String message = assertThrows(UserInputException.class, () -> TokenizeJob.run(spark, full)).getMessage();
            assertTrue(message.contains("could not write output quota://" + tmp.resolve("out"))
                    && message.contains("No space left on device") && message.contains("nothing was published"),
                    message);
            try (var files = Files.list(tmp)) {
                assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.contains("out"))
                        .toList(), "no dataset and no temporary output");
            }
        } finally {
            hadoop.unset(io.sparkgpt.jobs.QuotaFileSystem.QUOTA_KEY);
        }
    }
}
