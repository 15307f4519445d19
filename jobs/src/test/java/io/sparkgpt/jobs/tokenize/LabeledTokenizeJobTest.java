package io.sparkgpt.jobs.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgpt.jobs.LocalSpark;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.DocumentSplit;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tokenize --label-field on embedded Spark: one example a record, its label, its split. */
class LabeledTokenizeJobTest {
    static SparkSession spark;
    static final Tokenizer GPT2 = Tokenizer.shared(Tokenizer.GPT2);
    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        LocalSpark.stop(spark);
    }

    static TokenizeConfig config(Path input, Path output, InputFormat format, int maxLength, double valFraction) {
        return new TokenizeConfig(List.of(input.toString()), output.toString(), format, "text", Tokenizer.GPT2,
                maxLength, maxLength, valFraction, 3, false, false, 64, 64, "label");
    }

    private Path jsonl(String... lines) throws IOException {
        Path file = tmp.resolve("corpus-" + lines.length + ".jsonl");
        Files.write(file, List.of(lines));
        return file;
    }

    @Test
    void eachRecordIsOneExampleTruncatedOrPaddedWithItsLabelsIndex() throws IOException {
        String longText = "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005";
        Path input = jsonl("{\"text\": \"" + longText + "\", \"label\": \"spam\"}",
                "{\"text\": \"Ok lar\", \"label\": \"ham\"}", "{\"text\": \"See you at noon\", \"label\": \"ham\"}");
        LabeledTokenizeJob.Result r = LabeledTokenizeJob.run(spark, config(input, tmp.resolve("out"),
                InputFormat.JSONL, 8, 0));
        JsonNode m = new ObjectMapper().valueToTree(r.manifest());
        assertEquals("classification", m.get("task").asText());
        assertEquals("[\"ham\",\"spam\"]", m.get("labels").toString());
        assertEquals(2, m.get("num_classes").asInt());
        assertEquals(3, m.get("train").get("documents").asInt());
        assertEquals(1, m.get("train").get("truncated").asInt(), "the long text");
        assertEquals("{\"ham\":2,\"spam\":1}", m.get("train").get("label_counts").toString());
        assertEquals(8 + GPT2.encode("Ok lar").length + GPT2.encode("See you at noon").length,
                m.get("train").get("tokens").asInt(), "real tokens, padding not counted");
        Set<String> rows = new HashSet<>();
        for (Row row : spark.read().parquet(r.output() + "/train").collectAsList()) {
            int[] ids = DatasetFormat.decode((byte[]) row.getAs(DatasetFormat.TOKENS), 2);
            rows.add(java.util.Arrays.toString(ids) + " " + row.getAs(DatasetFormat.LENGTH) + " "
                    + row.getAs(DatasetFormat.LABEL));
        }
        assertEquals(Set.of(expected(longText, 8, 1), expected("Ok lar", 8, 0), expected("See you at noon", 8, 0)), rows);
        assertEquals(0, spark.read().parquet(r.output() + "/val").count());
    }

    private static String expected(String text, int maxLength, int label) {
        int[] ids = GPT2.encode(text);
        return java.util.Arrays.toString(DatasetFormat.truncatedAndPadded(ids, maxLength, GPT2.eotId())) + " "
                + Math.min(ids.length, maxLength) + " " + label;
    }

    /** The dataset's unscored target is the one the model's loss skips (two modules, one value). */
    @Test
    void theUnscoredTargetIsTheModelsIgnoredOne() {
        assertEquals(io.sparkgpt.model.engine.CrossEntropyHead.IGNORE, DatasetFormat.UNSCORED);
    }

    @Test
    void integerLabelsAreOrderedAsNumbers() throws IOException {
        Path input = jsonl("{\"text\": \"a\", \"label\": 10}", "{\"text\": \"b\", \"label\": 2}",
                "{\"text\": \"c\", \"label\": 1}");
        LabeledTokenizeJob.Result r = LabeledTokenizeJob.run(spark, config(input, tmp.resolve("out"),
                InputFormat.JSONL, 4, 0));
        assertEquals(List.of("1", "2", "10"), r.manifest().get("labels"));
    }

    /** Parquet input; the validation split is exactly the texts DocumentSplit hashes there. */
    @Test
    void parquetRecordsSplitByTheirTextsHash() throws IOException {
        List<Row> records = new ArrayList<>();
        IntStream.range(0, 200).forEach(i -> records.add(RowFactory.create("record number " + i, i % 3 == 0 ? "x" : "y")));
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.StringType);
        Path input = tmp.resolve("records.parquet");
        spark.createDataFrame(records, schema).write().parquet(input.toString());
        LabeledTokenizeJob.Result r = LabeledTokenizeJob.run(spark, config(input, tmp.resolve("out"),
                InputFormat.PARQUET, 16, 0.25));
        DocumentSplit split = new DocumentSplit(0.25, 3);
        long val = IntStream.range(0, 200).filter(i -> split.isValidation(
                DocumentSplit.sourceHash("record number " + i), 0)).count();
        assertTrue(val > 20 && val < 80, "about a quarter: " + val);
        assertEquals(val, spark.read().parquet(r.output() + "/val").count());
        assertEquals(200 - val, spark.read().parquet(r.output() + "/train").count());
    }

    @Test
    void badLabeledInputIsRefusedNamingTheFix() throws IOException {
        Path oneLabel = jsonl("{\"text\": \"a\", \"label\": \"x\"}", "{\"text\": \"b\", \"label\": \"x\"}");
        assertEquals("--label-field 'label' has only the value 'x' in input " + oneLabel + ": a classifier needs at "
                + "least 2 labels", assertThrows(UserInputException.class, () -> LabeledTokenizeJob.run(spark,
                config(oneLabel, tmp.resolve("a"), InputFormat.JSONL, 4, 0))).getMessage());
        Path noLabel = jsonl("{\"text\": \"a\", \"label\": \"x\"}", "{\"text\": \"b\"}", "{\"text\": \"c\", \"label\": \"y\"}");
        String message = assertThrows(UserInputException.class, () -> LabeledTokenizeJob.run(spark,
                config(noLabel, tmp.resolve("b"), InputFormat.JSONL, 4, 0))).getMessage();
        assertEquals("input " + noLabel + " has 1 records without a field 'text' or a field 'label': fill them in, "
                + "or pass --skip-bad-records to skip them", message);
        Path broken = jsonl("{\"text\": \"a\", \"label\": \"x\"}", "{\"text\": \"b\", \"label\": \"y\"}", "not json");
        assertEquals("input " + broken + " has a line that is not a JSON object: fix it, or pass --skip-bad-records "
                + "to skip such lines", assertThrows(UserInputException.class, () -> LabeledTokenizeJob.run(spark,
                config(broken, tmp.resolve("c"), InputFormat.JSONL, 4, 0))).getMessage());
        assertFalse(Files.exists(tmp.resolve("c")), "nothing published");
        LabeledTokenizeJob.Result skipped = LabeledTokenizeJob.run(spark, config(broken, tmp.resolve("d"),
                InputFormat.JSONL, 4, 0).withSkipBadRecords(true));
        assertEquals(2L, skipped.manifest().get("documents"));
        assertEquals("--label-field needs --format jsonl or parquet (a record's text and label), not text",
                assertThrows(UserInputException.class, () -> config(broken, tmp.resolve("e"), InputFormat.TEXT, 4,
                        0)).getMessage());
    }
}
