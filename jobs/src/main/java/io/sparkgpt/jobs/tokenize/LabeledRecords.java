package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * A labeled corpus's records as two string columns, text and label, read by Spark's own JSON and
 * Parquet readers (a malformed JSON line fails the job, or with --skip-bad-records is dropped).
 */
final class LabeledRecords {
    static final String TEXT = "text";
    static final String LABEL = "label";

    private LabeledRecords() {
    }

    static Dataset<Row> read(SparkSession spark, TokenizeConfig c) {
        String[] paths = c.inputs().toArray(String[]::new);
        Dataset<Row> all;
        try {
            all = c.format() == InputFormat.JSONL
                    ? spark.read().option("mode", c.skipBadRecords() ? "DROPMALFORMED" : "FAILFAST").json(paths)
                    : spark.read().parquet(paths);
        } catch (Exception e) { // AnalysisException (a missing path) is checked, though Scala doesn't declare it
            throw userError(e, c);
        }
        StructField text = field(all, c.textField());
        if (text == null || !text.dataType().equals(DataTypes.StringType)) {
            throw new UserInputException(String.format("input %s has no string %s '%s' (it has: %s): name the text "
                    + "with --text-field", String.join(", ", c.inputs()), kind(c), c.textField(),
                    LabeledTokenizeJob.columns(all)));
        }
        if (field(all, c.labelField()) == null) {
            throw new UserInputException(String.format("input %s has no %s '%s' (it has: %s): name the label with "
                    + "--label-field", String.join(", ", c.inputs()), kind(c), c.labelField(),
                    LabeledTokenizeJob.columns(all)));
        }
        return all.select(col(c.textField()).as(TEXT), col(c.labelField()).cast(DataTypes.StringType).as(LABEL));
    }

    /** Records without a text or a label: refused, or with --skip-bad-records counted and dropped. */
    static long requireComplete(Dataset<Row> records, TokenizeConfig c) {
        long missing = count(records.filter(col(TEXT).isNull().or(col(LABEL).isNull())), c);
        if (missing > 0 && !c.skipBadRecords()) {
            throw new UserInputException(String.format("input %s has %,d records without a %s '%s' or a %s '%s': "
                    + "fill them in, or pass --skip-bad-records to skip them", String.join(", ", c.inputs()), missing,
                    kind(c), c.textField(), kind(c), c.labelField()));
        }
        return missing;
    }

    /** The distinct labels in order: numeric if every label is an integer (2 before 10), else by text. */
    static List<String> labelNames(Dataset<Row> complete, TokenizeConfig c) {
        List<String> labels;
        try {
            labels = complete.select(LABEL).distinct().limit(LabeledTokenizeJob.MAX_CLASSES + 1).collectAsList()
                    .stream().map(r -> r.getString(0)).toList();
        } catch (RuntimeException e) {
            throw userError(e, c);
        }
        LabeledTokenizeJob.require(labels.size() <= LabeledTokenizeJob.MAX_CLASSES, String.format("--label-field "
                + "'%s' has more than %,d distinct values: is it the label?", c.labelField(),
                LabeledTokenizeJob.MAX_CLASSES));
        LabeledTokenizeJob.require(labels.size() >= 2, String.format("--label-field '%s' has %s in input %s: a "
                + "classifier needs at least 2 labels", c.labelField(), labels.isEmpty() ? "no values"
                : "only the value '" + labels.get(0) + "'", String.join(", ", c.inputs())));
        boolean numeric = labels.stream().allMatch(l -> l.matches("-?\\d{1,18}"));
        return labels.stream().sorted(numeric ? Comparator.comparingLong(Long::parseLong)
                : Comparator.<String>naturalOrder()).toList();
    }

    private static long count(Dataset<Row> rows, TokenizeConfig c) {
        try {
            return rows.count();
        } catch (RuntimeException e) {
            throw userError(e, c);
        }
    }

    private static StructField field(Dataset<Row> all, String name) {
        return Arrays.stream(all.schema().fields()).filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    private static String kind(TokenizeConfig c) {
        return c.format() == InputFormat.JSONL ? "field" : "column";
    }

    /** A missing path or a malformed JSON line as the user's error; anything else as it is. */
    static RuntimeException userError(Exception e, TokenizeConfig c) {
        String inputs = String.join(", ", c.inputs());
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (t instanceof AnalysisException && m.contains("PATH_NOT_FOUND")) {
                return new UserInputException("--input " + inputs + ": " + m);
            }
            if (m.contains("Malformed records are detected")) {
                return new UserInputException("input " + inputs + " has a line that is not a JSON object: fix it, "
                        + "or pass --skip-bad-records to skip such lines");
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }
}
