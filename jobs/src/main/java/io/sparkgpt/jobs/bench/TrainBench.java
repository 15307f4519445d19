package io.sparkgpt.jobs.bench;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.model.ModelOptions;
import io.sparkgpt.model.GptConfig;
import io.sparkgpt.model.GptNetwork;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code sparkgpt bench train}: throughput of the GPT's training step in one JVM, without Spark
 * (tokens/s, ms per step, peak RSS, MFU), optionally side by side with the PyTorch reference on
 * the same token ids (the-verdict.txt by default, cut into windows as the reference does).
 *
 * <p>Threads: without {@code --threads} the training runs in this JVM with the thread count ND4J
 * took from OMP_NUM_THREADS at start-up (all cores if unset). With {@code --threads 1,2} each
 * count runs in a child JVM with OMP_NUM_THREADS set, and the fastest is reported (ND4J cannot
 * change it once loaded). {@code --rounds N} repeats every contender, alternating, and keeps each
 * one's fastest run: on a shared machine, load from other processes then hits all of them.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training-step throughput (tokens/s, ms/step, peak RSS, MFU), optionally vs PyTorch.")
public final class TrainBench implements Callable<Integer> {
    /** The reference's optimizer (torch AdamW(lr=5e-4, weight_decay=0.1)), so both do the same work. */
    static final double LEARNING_RATE = 5e-4;
    static final double WEIGHT_DECAY = 0.1;

    @Mixin
    ModelOptions model;

    @Option(names = "--context-length", paramLabel = "T", description = "Tokens per sequence. Default: the preset's.")
    Integer contextLength;

    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per step. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--steps", defaultValue = "20", description = "Timed steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--input", defaultValue = "data/the-verdict.txt", paramLabel = "FILE",
            description = "Text whose GPT-2 token ids make the batches. Default: ${DEFAULT-VALUE}.")
    Path input;

    @Option(names = "--seed", defaultValue = "123", description = "Weights and batch order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", split = ",", paramLabel = "N[,N...]",
            description = "ND4J threads (OMP_NUM_THREADS) to try, each in a child JVM; the fastest is reported. "
                    + "Default: this JVM, with the OMP_NUM_THREADS it was started with.")
    List<Integer> threads;

    @Option(names = "--rounds", defaultValue = "1",
            description = "Times to run every contender, alternating; the fastest run of each counts. "
                    + "Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--peak-gflops", paramLabel = "GFLOPS",
            description = "Peak FLOP/s for MFU. Default: measured (fastest 2048x2048 sgemm through ND4J).")
    Double peakGflops;

    @Option(names = "--compare-torch", description = "Also run the PyTorch reference and print both with ratios.")
    boolean compareTorch;

    @Option(names = "--torch-ref", defaultValue = "../shared/bench/torch_gpt_ref.py", paramLabel = "FILE",
            description = "The PyTorch reference script. Default: ${DEFAULT-VALUE}.")
    Path torchRef;

    @Option(names = "--torch-threads", split = ",", defaultValue = "1,2", paramLabel = "N[,N...]",
            description = "Torch thread counts to try (the fastest is compared). Default: ${DEFAULT-VALUE}.")
    List<Integer> torchThreads;

    @Option(names = "--python", defaultValue = "/usr/bin/python3",
            description = "Python with torch. Default: ${DEFAULT-VALUE}.")
    String python;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        GptConfig config = config();
        int[] ids = tokenIds(config);
        Path configFile = Files.createTempFile("sparkgpt-bench", ".json");        // for child JVMs
        Path tokensFile = Files.createTempFile("sparkgpt-bench", ".ids");          // for PyTorch
        try {
            Files.writeString(configFile, config.toJson());
            Files.writeString(tokensFile,
                    Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            List<Map<String, Object>> jvmRuns = new ArrayList<>();
            List<Map<String, Object>> torchRuns = new ArrayList<>();
            // Rounds alternate the contenders, so that load from other processes hits them alike.
            for (int round = 0; round < rounds; round++) {
                if (threads == null) {
                    jvmRuns.add(JvmRun.here(this, config, ids));
                } else {
                    for (int t : threads) {
                        jvmRuns.add(JvmRun.child(this, configFile, t));
                    }
                }
                if (compareTorch) {
                    TorchReference.Setup setup = new TorchReference.Setup(python, torchRef, tokensFile);
                    for (int t : torchThreads) {
                        torchRuns.add(TorchReference.run(setup, config, batchSize, steps, warmup, t));
                    }
                }
            }
            Map<String, Object> report = report(config, jvmRuns, torchRuns);
            System.out.println(json ? Json.of(report) : report);
            return 0;
        } finally {
            Files.deleteIfExists(configFile);
            Files.deleteIfExists(tokensFile);
        }
    }

    /**
     * The fastest JVM run at top level, the fastest PyTorch run under "torch", and their ratios.
     * MFU of every run is against one peak: the given one, or the best any JVM run measured.
     */
    private Map<String, Object> report(GptConfig c, List<Map<String, Object>> jvmRuns,
                                       List<Map<String, Object>> torchRuns) {
        double peak = peakGflops != null ? peakGflops
                : jvmRuns.stream().mapToDouble(r -> num(r, "peak_gflops")).max().orElseThrow();
        for (Map<String, Object> run : jvmRuns) {
            run.put("peak_gflops", round(peak, 1));
        }
        for (List<Map<String, Object>> runs : List.of(jvmRuns, torchRuns)) {
            runs.forEach(run -> run.put("mfu", round(num(run, "tokens_per_s") * flopsPerToken(c) / (peak * 1e9), 4)));
        }
        Map<String, Object> out = header(c);
        Map<String, Object> jvm = fastest(jvmRuns);
        out.putAll(jvm);
        if (!torchRuns.isEmpty()) {
            Map<String, Object> torch = fastest(torchRuns);
            out.put("torch", torch);
            Map<String, Object> ratios = new LinkedHashMap<>();
            ratios.put("tokens_per_s", round(num(jvm, "tokens_per_s") / num(torch, "tokens_per_s"), 3));
            ratios.put("peak_rss", round(num(jvm, "peak_rss_mb") / num(torch, "peak_rss_mb"), 3));
            out.put("vs_torch", ratios);
        }
        return out;
    }

    private GptConfig config() {
        GptConfig c = model.resolve();
        if (c == null) {
            throw new UserInputException("name a model: --preset NAME or --config FILE");
        }
        requirePositive("--batch-size", batchSize);
        requirePositive("--steps", steps);
        requirePositive("--rounds", rounds);
        if (warmup < 0) {
            throw new UserInputException("--warmup must be 0 or more, got " + warmup);
        }
        if (compareTorch && !Files.isRegularFile(torchRef)) {
            throw new UserInputException("--torch-ref " + torchRef
                    + " does not exist: pass the path of torch_gpt_ref.py");
        }
        if (contextLength != null) {
            requirePositive("--context-length", contextLength);
            c = c.withContextLength(contextLength);
        }
        return c;
    }

    private static void requirePositive(String option, int value) {
        if (value < 1) {
            throw new UserInputException(option + " must be at least 1, got " + value);
        }
    }

    /** GPT-2 ids of the whole input; it must hold at least one window of context_length + 1. */
    private int[] tokenIds(GptConfig c) throws IOException {
        if (!Files.isRegularFile(input)) {
            throw new UserInputException("input " + input + " does not exist: pass --input FILE (a text file)");
        }
        int[] ids = Tokenizer.shared(Tokenizer.GPT2).encode(Files.readString(input, StandardCharsets.UTF_8));
        if (ids.length < c.contextLength() + 1) {
            throw new UserInputException("input " + input + " gives " + ids.length
                    + " tokens, fewer than one window of "
                    + (c.contextLength() + 1) + " needs: lower --context-length or use a longer --input");
        }
        return ids;
    }

    private Map<String, Object> header(GptConfig c) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", Map.of("vocab_size", c.vocabSize(), "context_length", c.contextLength(),
                "emb_dim", c.embDim(), "n_heads", c.nHeads(), "n_layers", c.nLayers(),
                "parameters", c.parameterCount()));
        out.put("batch_size", batchSize);
        out.put("steps", steps);
        out.put("warmup", warmup);
        out.put("rounds", rounds);
        out.put("flops_per_token", flopsPerToken(c));
        return out;
    }

    /**
     * Training FLOPs per token as nanoGPT's estimate_mfu counts them (model.py, after the PaLM paper,
     * appendix B): 6N + 12·L·H·Q·T, where N counts the parameters that take part in matmuls
     * (forward 2N, backward 4N) and the second term is the attention scores and their weighted sum,
     * L layers, H heads, Q head size, T tokens per sequence. The embedding lookups do no matmul, so
     * the position table and (untied) token table are not in N; a tied table is, as the head.
     */
    static double flopsPerToken(GptConfig c) {
        long positions = c.position() == GptConfig.Position.LEARNED ? (long) c.contextLength() * c.embDim() : 0;
        long tokenTable = c.tieWeights() ? 0 : (long) c.vocabSize() * c.embDim();
        long n = c.parameterCount() - positions - tokenTable;
        return 6.0 * n + 12.0 * c.nLayers() * c.nHeads() * c.headDim() * c.contextLength();
    }

    /**
     * The run with the most tokens/s, and when there are several thread counts, the fastest run of
     * each under "by_threads".
     */
    static Map<String, Object> fastest(List<Map<String, Object>> runs) {
        Map<String, Map<String, Object>> byThreads = new LinkedHashMap<>();
        for (Map<String, Object> run : runs) {
            byThreads.merge(String.valueOf(run.get("threads")), run,
                    (a, b) -> num(b, "tokens_per_s") > num(a, "tokens_per_s") ? b : a);
        }
        Map<String, Object> best = byThreads.values().stream()
                .max(Comparator.comparingDouble(r -> num(r, "tokens_per_s"))).orElseThrow();
        Map<String, Object> out = new LinkedHashMap<>(best);
        if (byThreads.size() > 1) {
            out.put("by_threads", byThreads);
        }
        return out;
    }

    /**
     * Fixed batches as torch_gpt_ref.py draws them: each sequence starts at a random multiple of
     * T, inputs ids[s, s+T), targets ids[s+1, s+T+1); built before timing.
     */
    static List<DataSet> batches(int[] ids, int batchSize, int time, int count, long seed) {
        int windows = (ids.length - 1) / time;
        Random random = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[][] inputs = new float[batchSize][time];
            float[][] targets = new float[batchSize][time];
            for (int b = 0; b < batchSize; b++) {
                DatasetFormat.example(ids, random.nextInt(windows) * time, inputs[b], targets[b]);
            }
            out.add(new DataSet(Nd4j.create(inputs), Nd4j.create(targets)));
        }
        return out;
    }

    static ComputationGraph network(GptConfig c, long seed) {
        return GptNetwork.build(c, seed, new Adam(LEARNING_RATE), WEIGHT_DECAY, DataType.FLOAT);
    }

    static double num(Map<String, ?> map, String key) {
        return ((Number) map.get(key)).doubleValue();
    }

    static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }
}
