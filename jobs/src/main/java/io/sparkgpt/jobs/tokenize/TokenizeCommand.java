package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.cli.Sessions;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sparkgpt tokenize}: parses options, validates them, runs {@link TokenizeJob}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Tokenize a corpus with GPT-2 BPE into a sliding-window Parquet dataset "
                + "(DIR/train, DIR/val, DIR/dataset.json).")
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH",
            description = "Files, directories or globs on any Hadoop file system (file://, hdfs://, s3a://).")
    List<String> inputs;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The dataset directory.")
    String output;

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (a file a document), lines (a non-empty line a document), jsonl, parquet. "
                    + "Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
            description = "The JSON field or Parquet column holding the text. Default: ${DEFAULT-VALUE}.")
    String textField;

    @Option(names = "--label-field", paramLabel = "NAME",
            description = "Make a classification dataset: one example a record (--format jsonl or parquet), its "
                    + "ids truncated to --max-length or padded with the end-of-text id, labeled by this field's "
                    + "value; the label names go to dataset.json (train-classifier reads it).")
    String labelField;

    @Option(names = "--encoding", defaultValue = Tokenizer.GPT2, paramLabel = "NAME",
            description = "r50k_base (GPT-2), p50k_base, cl100k_base, o200k_base. Default: ${DEFAULT-VALUE}.")
    String encoding;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "N",
            description = "Input ids a window (a window stores N+1 ids). Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--stride", defaultValue = "256", paramLabel = "N",
            description = "Ids between window starts. Default: ${DEFAULT-VALUE}.")
    int stride;

    @Option(names = "--val-fraction", defaultValue = "0.1", paramLabel = "F",
            description = "Share of documents for validation; 0 keeps all in train. Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of the document split. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--overwrite", description = "Replace an existing output directory.")
    boolean overwrite;

    @Option(names = "--skip-bad-records", description = "Skip binary files, lines that aren't JSON or lack the "
            + "text field and oversized lines, and replace invalid UTF-8, counting each in dataset.json (default: "
            + "the first one fails the job, naming it).")
    boolean skipBadRecords;

    @Option(names = "--shard-size-mb", defaultValue = "64", paramLabel = "MB",
            description = "Input bytes a shard (a task). Default: ${DEFAULT-VALUE}.")
    double shardSizeMb;

    @Option(names = "--max-document-mb", defaultValue = "64", paramLabel = "MB",
            description = "Largest document; larger ones are skipped (text: refused). Default: ${DEFAULT-VALUE}.")
    double maxDocumentMb;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        TokenizeConfig config = new TokenizeConfig(inputs, output, InputFormat.of(format), textField, encoding,
                maxLength, stride, valFraction, seed, overwrite, skipBadRecords, shardSizeMb, maxDocumentMb,
                labelField);
        SparkSession spark = Sessions.start("tokenize");
        try {
            if (config.labeled()) {
                LabeledTokenizeJob.Result result = LabeledTokenizeJob.run(spark, config);
                System.out.println(json ? Json.of(labeledJson(result)) : labeledSummary(result));
                return 0;
            }
            TokenizeResult result = TokenizeJob.run(spark, config);
            System.out.println(json ? Json.of(toJson(result)) : summary(result));
        } finally {
            Sessions.stop(spark);
        }
        return 0;
    }

    static Map<String, Object> toJson(TokenizeResult result) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output", result.output());
        m.put("seconds", result.seconds());
        m.putAll(DatasetFormat.manifest(result.manifest().toMap()));
        return m;
    }

    static Map<String, Object> labeledJson(LabeledTokenizeJob.Result result) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output", result.output());
        m.put("seconds", result.seconds());
        m.putAll(result.manifest());
        return m;
    }

    @SuppressWarnings("unchecked")
    static String labeledSummary(LabeledTokenizeJob.Result r) {
        Map<String, Object> m = r.manifest();
        StringBuilder out = new StringBuilder(String.format("tokenized %s in %.1f s: %,d labeled documents, "
                + "labels %s, max_length %s%n", r.output(), r.seconds(), ((Number) m.get("documents")).longValue(),
                m.get(DatasetFormat.LABELS), m.get(DatasetFormat.MAX_LENGTH)));
        for (String split : DatasetFormat.SPLITS) {
            Map<String, Object> s = (Map<String, Object>) m.get(split);
            out.append(String.format("  %-5s %,d examples (%,d truncated), %,d tokens, by label %s%n", split + ":",
                    ((Number) s.get("documents")).longValue(), ((Number) s.get("truncated")).longValue(),
                    ((Number) s.get("tokens")).longValue(), s.get("label_counts")));
        }
        out.append("  skipped: ").append(m.get("skipped"));
        ((List<String>) m.get("warnings")).forEach(w -> out.append("\n  warning: ").append(w));
        return out.toString();
    }

    static String summary(TokenizeResult r) {
        DatasetManifest m = r.manifest();
        DatasetStats s = m.stats();
        StringBuilder out = new StringBuilder(String.format(
                "tokenized %s in %.1f s: %,d documents (%s, max_length %d, stride %d, split %s)%n",
                r.output(), r.seconds(), s.documents(), m.encoding(), m.maxLength(), m.stride(), m.splitMethod()));
        out.append(line("train", s.train())).append(line("val", s.val()));
        out.append("  skipped: ").append(s.skipped().isEmpty() ? "none" : s.skipped().toString());
        if (s.invalidUtf8Documents() > 0) {
            out.append(String.format("%n  invalid UTF-8 replaced in %,d documents", s.invalidUtf8Documents()));
        }
        for (DatasetStats.SkippedExample e : s.skippedExamples()) {
            out.append(String.format("%n    %s%s: %s", e.file(), e.line() > 0 ? ":" + e.line() : "", e.reason()));
        }
        m.warnings().forEach(w -> out.append("\n  warning: ").append(w));
        return out.toString();
    }

    private static String line(String name, DatasetStats.SplitStats s) {
        return String.format("  %-5s %,d documents, %,d tokens, %,d windows, %,d shards%n",
                name + ":", s.documents(), s.tokens(), s.windows(), s.shards());
    }
}
