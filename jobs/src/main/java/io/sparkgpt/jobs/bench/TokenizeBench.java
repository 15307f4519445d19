package io.sparkgpt.jobs.bench;

import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.cli.Sessions;
import io.sparkgpt.jobs.tokenize.InputFormat;
import io.sparkgpt.jobs.tokenize.TokenizeConfig;
import io.sparkgpt.jobs.tokenize.TokenizeJob;
import io.sparkgpt.jobs.tokenize.TokenizeResult;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sparkgpt bench tokenize}: MB/s and tokens/s per core of jtokkit alone on one thread, of
 * the job's encoder alone (GPT-2's splitter and a piece cache, warm), and of the tokenize job on
 * local[1] and local[2], side by side in one run (best of N after warm-up).
 * The job reads the file in lines format, cut into shards as tokenize would, but at least two so
 * that both cores have work (8 shards of a 6 MB corpus cost the job a third of its time in
 * per-task setup: Spark's task and Hadoop conf deserialization, Parquet writers).
 * Unlike the jobs, this benchmark sets its own masters: comparing them is its purpose.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenizer throughput: jtokkit alone vs the tokenize job on local[1] and local[2].")
public final class TokenizeBench implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "A local text file.")
    Path input;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of each (best kept). "
            + "Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--shards", defaultValue = "0", description = "Shards the job cuts the file into; 0 (default): "
            + "an even number of equal shards of at most tokenize's default --shard-size-mb, so both cores of "
            + "local[2] have the same work.")
    int shards;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    /** Throughput of one contender; per core for the job. */
    record Speed(double mbPerS, double tokensPerS, long tokens) {
        Map<String, Object> toMap() {
            return Map.of("mb_per_s", round(mbPerS), "tokens_per_s", Math.round(tokensPerS), "tokens", tokens);
        }
    }

    @Override
    public Integer call() throws IOException {
        byte[] bytes = Files.readAllBytes(input);
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("input", input.toString());
        results.put("bytes", bytes.length);
        String text = new String(bytes, StandardCharsets.UTF_8);
        Speed raw = encoder(text, bytes.length, false);
        results.put("jtokkit", raw.toMap());
        Speed cached = encoder(text, bytes.length, true);
        Map<String, Object> c = new LinkedHashMap<>(cached.toMap());
        c.put("vs_jtokkit", round(cached.tokensPerS / raw.tokensPerS));
        results.put("cached_encoder", c);
        for (int cores : new int[] {1, 2}) {
            Speed job = job(cores, bytes.length);
            Map<String, Object> m = new LinkedHashMap<>(job.toMap());
            m.put("vs_jtokkit_per_core", round(job.tokensPerS / raw.tokensPerS));
            results.put("local[" + cores + "]", m);
        }
        results.put("two_cores_vs_one", round(speedOf(results, 2) * 2 / speedOf(results, 1)));
        System.out.println(json ? Json.of(results) : results.toString());
        return 0;
    }

    private static double speedOf(Map<String, Object> results, int cores) {
        return ((Number) ((Map<?, ?>) results.get("local[" + cores + "]")).get("tokens_per_s")).doubleValue();
    }

    /** jtokkit's encodeOrdinary of the whole text, or the job's encoder (GPT-2's splitter and a piece cache). */
    private Speed encoder(String text, long bytes, boolean cached) {
        Tokenizer tokenizer = Tokenizer.shared(Tokenizer.GPT2);
        int tokens = encode(tokenizer, text, cached); // warm-up (and, cached, the cache filled)
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            tokens = encode(tokenizer, text, cached);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return new Speed(bytes / best / 1e6, tokens / best, tokens);
    }

    private static int encode(Tokenizer tokenizer, String text, boolean cached) {
        return (cached ? tokenizer.encode(text) : tokenizer.encodeUncached(text)).length;
    }

    /** The tokenize job on local[cores]; throughput divided by cores. */
    private Speed job(int cores, long bytes) throws IOException {
        Path out = Files.createTempDirectory("sparkgpt-bench");
        SparkSession spark = SparkSession.builder().master("local[" + cores + "]")
                .appName("sparkgpt bench tokenize").config("spark.ui.enabled", "false").getOrCreate();
        try {
            TokenizeConfig defaults = TokenizeConfig.defaults(List.of(input.toAbsolutePath().toUri().toString()),
                    out.resolve("dataset").toUri().toString());
            double mb = bytes / 1048576.0;
            // An even number of equal shards, none over tokenize's default: 4 uneven ones (64, 64,
            // 64, 35 MB) would leave one core idle for the last 29 MB.
            int count = shards > 0 ? shards : 2 * (int) Math.ceil(mb / (2 * defaults.shardSizeMb()));
            double shardMb = mb / count;
            TokenizeConfig config = defaults.withFormat(InputFormat.LINES)
                    .withOutput(out.resolve("dataset").toUri().toString(), true).withShardSizeMb(shardMb + 1e-6);
            TokenizeResult result = TokenizeJob.run(spark, config); // warm-up
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                result = TokenizeJob.run(spark, config);
                best = Math.min(best, result.seconds());
            }
            var s = result.manifest().stats();
            long tokens = s.train().tokens() + s.val().tokens();
            return new Speed(bytes / best / 1e6 / cores, tokens / best / cores, tokens);
        } finally {
            Sessions.stop(spark);
            deleteRecursively(out);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
