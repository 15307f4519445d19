package io.sparkgpt.jobs.tokenize;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The shard reports of a tokenize run, added up on the driver. */
public record DatasetStats(long documents, SplitStats train, SplitStats val, Map<String, Long> skipped,
                           long invalidUtf8Documents, List<SkippedExample> skippedExamples) {

    /** Documents, tokens (end-of-text separators included), windows, and shards with a window. */
    public record SplitStats(long documents, long tokens, long windows, int shards) {
    }

    /** A skipped document; line is 0 when the whole file was skipped. */
    public record SkippedExample(String file, long line, String reason) {
    }

    static DatasetStats of(List<ShardReport> reports, CorpusPlan plan, boolean bookSplit) {
        Map<String, Long> skipped = new TreeMap<>();
        long invalid = 0;
        for (ShardReport r : reports) {
            r.skipped.forEach((reason, n) -> skipped.merge(reason, n, Long::sum));
            invalid += r.invalidUtf8Documents;
        }
        if (!plan.binaryFiles().isEmpty()) {
            skipped.merge("binary_file", (long) plan.binaryFiles().size(), Long::sum);
        }
        SplitStats train = split(reports, ShardReport.TRAIN);
        SplitStats val = split(reports, ShardReport.VAL);
        // A one-document corpus cut at the character mark has a part in each split.
        long documents = bookSplit ? train.documents : train.documents + val.documents;
        return new DatasetStats(documents, train, val, skipped, invalid, examples(reports, plan));
    }

    private static SplitStats split(List<ShardReport> reports, int s) {
        long documents = 0, tokens = 0, windows = 0;
        int shards = 0;
        for (ShardReport r : reports) {
            documents += r.documents[s];
            tokens += r.tokens[s];
            windows += r.windows[s];
            shards += r.windows[s] > 0 ? 1 : 0;
        }
        return new SplitStats(documents, tokens, windows, shards);
    }

    /** Examples of skipped documents with their line numbers in the file, first ones first. */
    private static List<SkippedExample> examples(List<ShardReport> reports, CorpusPlan plan) {
        Map<String, TreeMap<Long, Long>> linesPerRange = new HashMap<>();
        for (ShardReport r : reports) {
            for (ShardReport.RangeLines l : r.rangeLines) {
                linesPerRange.computeIfAbsent(l.path(), k -> new TreeMap<>()).put(l.start(), l.lines());
            }
        }
        List<SkippedExample> out = new ArrayList<>();
        for (String file : plan.binaryFiles()) {
            out.add(new SkippedExample(file, 0, "binary_file"));
        }
        reports.stream().sorted((a, b) -> Integer.compare(a.shard, b.shard)).forEach(r -> {
            for (ShardReport.Problem p : r.examples) {
                long line = p.lineInRange() < 0 ? 0 : 1 + p.lineInRange() + linesBefore(linesPerRange, p);
                out.add(new SkippedExample(p.path(), line, p.reason()));
            }
        });
        return out.size() > ShardReport.MAX_EXAMPLES ? List.copyOf(out.subList(0, ShardReport.MAX_EXAMPLES)) : out;
    }

    private static long linesBefore(Map<String, TreeMap<Long, Long>> linesPerRange, ShardReport.Problem p) {
        TreeMap<Long, Long> ranges = linesPerRange.getOrDefault(p.path(), new TreeMap<>());
        return ranges.headMap(p.rangeStart(), false).values().stream().mapToLong(Long::longValue).sum();
    }
}
