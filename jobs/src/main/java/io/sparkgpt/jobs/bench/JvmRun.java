package io.sparkgpt.jobs.bench;

import io.sparkgpt.jobs.SparkGpt;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.model.GptConfig;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JVM side of {@code bench train}: the timed training loop, in this JVM or in a child JVM. */
final class JvmRun {
    private static final Logger LOG = LoggerFactory.getLogger(JvmRun.class);
    /** The keys a run reports; a child's header (model, steps, ...) is the parent's already. */
    private static final List<String> RUN_KEYS = List.of("threads", "tokens_per_s", "step_ms", "step_ms_min",
            "peak_rss_mb", "mfu", "peak_gflops", "sgemm_gflops", "loss_first", "loss_last");
    /** JVM options a child must not inherit: a second recording or agent on the same file or port. */
    private static final List<String> NOT_INHERITED = List.of("-XX:StartFlightRecording", "-XX:FlightRecorderOptions",
            "-agentlib", "-agentpath", "-javaagent");

    private JvmRun() {
    }

    /** Warm-up, then the timed steps, in this JVM; then the peak FLOP/s (unless given) on the same threads. */
    static Map<String, Object> here(TrainBench b, GptConfig c, int[] ids) {
        ComputationGraph net = TrainBench.network(c, b.seed);
        List<DataSet> batches = TrainBench.batches(ids, b.batchSize, c.contextLength(), b.warmup + b.steps, b.seed);
        double lossFirst = Double.NaN;
        double[] stepMs = new double[b.steps];
        for (int i = 0; i < batches.size(); i++) {
            long t0 = System.nanoTime();
            net.fit(batches.get(i));
            if (i >= b.warmup) {
                stepMs[i - b.warmup] = (System.nanoTime() - t0) / 1e6;
            }
            if (i == 0) {
                lossFirst = net.score();
            }
            LOG.info("step {}: {} ms, loss {}", i, Math.round((System.nanoTime() - t0) / 1e6), net.score());
        }
        double peakRssMb = ChildProcess.ownPeakRssMb();                    // before the sgemms, which are not training
        double totalMs = Arrays.stream(stepMs).sum();
        double tokensPerS = (double) b.steps * b.batchSize * c.contextLength() / (totalMs / 1000);
        double peak = b.peakGflops != null ? b.peakGflops : PeakFlops.measureGflops();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("threads", Nd4j.getEnvironment().maxThreads());
        out.put("tokens_per_s", TrainBench.round(tokensPerS, 1));
        out.put("step_ms", TrainBench.round(totalMs / b.steps, 1));
        out.put("step_ms_min", TrainBench.round(Arrays.stream(stepMs).min().orElseThrow(), 1));
        out.put("peak_rss_mb", Math.round(peakRssMb));
        out.put("mfu", TrainBench.round(tokensPerS * TrainBench.flopsPerToken(c) / (peak * 1e9), 4));
        out.put("peak_gflops", TrainBench.round(peak, 1));
        // This run's own figure, kept when the report puts the best of all runs in peak_gflops.
        out.put("sgemm_gflops", TrainBench.round(peak, 1));
        out.put("loss_first", TrainBench.round(lossFirst, 4));
        out.put("loss_last", TrainBench.round(net.score(), 4));
        return out;
    }

    /**
     * This command without --threads in a child JVM with OMP_NUM_THREADS set in its environment
     * (ND4J reads it once, at start-up), so each thread count also has its own peak RSS.
     */
    static Map<String, Object> child(TrainBench b, Path configFile, int threads)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(List.of(SparkGpt.class.getName(), "bench", "train", "--config", configFile.toString(),
                "--batch-size", Integer.toString(b.batchSize), "--steps", Integer.toString(b.steps),
                "--warmup", Integer.toString(b.warmup), "--input", b.input.toAbsolutePath().toString(),
                "--seed", Long.toString(b.seed), "--json"));
        if (b.peakGflops != null) {
            command.addAll(List.of("--peak-gflops", b.peakGflops.toString()));
        }
        LOG.info("child JVM with OMP_NUM_THREADS={}", threads);
        ChildProcess.Result result = ChildProcess.run(command, Map.of("OMP_NUM_THREADS", Integer.toString(threads)));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("bench train child JVM (OMP_NUM_THREADS=" + threads + ") exited with "
                    + result.exitCode());
        }
        Map<?, ?> printed = (Map<?, ?>) Json.parse(result.stdout().strip());
        Map<String, Object> run = new LinkedHashMap<>();
        for (String key : RUN_KEYS) {
            run.put(key, printed.get(key));
        }
        return run;
    }

    /** This JVM's java binary, options and classpath, so a child runs exactly as this one does. */
    private static List<String> javaCommand() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (NOT_INHERITED.stream().noneMatch(option::startsWith)) {
                command.add(option);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path")));
        return command;
    }
}
