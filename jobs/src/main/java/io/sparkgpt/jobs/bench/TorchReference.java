package io.sparkgpt.jobs.bench;

import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.model.GptConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch reference of {@code bench train} (torch_gpt_ref.py: the same architecture, AdamW,
 * dropout, next-token cross-entropy) run as a child process on the same token ids and config,
 * with its peak RSS measured from outside (the script does not report it).
 */
final class TorchReference {

    /** Where to find the reference script and the interpreter that has torch. */
    record Setup(String python, Path script, Path tokensFile) {
    }

    private TorchReference() {
    }

    /**
     * One run at {@code threads} torch threads. Returns the script's figures under the JVM's keys
     * ({@code tokens_per_s}, {@code step_ms}, {@code peak_rss_mb}) plus its own.
     */
    static Map<String, Object> run(Setup setup, GptConfig c, int batchSize, int steps, int warmup, int threads)
            throws IOException, InterruptedException {
        List<String> command = List.of(setup.python(), setup.script().toString(),
                "--vocab", Integer.toString(c.vocabSize()), "--emb", Integer.toString(c.embDim()),
                "--layers", Integer.toString(c.nLayers()), "--heads", Integer.toString(c.nHeads()),
                "--ctx", Integer.toString(c.contextLength()), "--batch", Integer.toString(batchSize),
                "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup),
                "--drop", Double.toString(c.dropRate()), "--threads", Integer.toString(threads),
                "--tokens", setup.tokensFile().toString());
        // OMP_NUM_THREADS too: torch.set_num_threads does not reach OpenBLAS's own pool.
        ChildProcess.Result result = ChildProcess.run(command, Map.of("OMP_NUM_THREADS", Integer.toString(threads),
                "OPENBLAS_NUM_THREADS", Integer.toString(threads)));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("PyTorch reference exited with " + result.exitCode() + ": "
                    + String.join(" ", command));
        }
        Map<?, ?> printed = (Map<?, ?>) Json.parse(lastLine(result.stdout()));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("impl", printed.get("impl"));
        out.put("threads", printed.get("threads"));
        out.put("parameters", printed.get("params"));
        out.put("tokens_per_s", ((Number) printed.get("tokens_per_s")).doubleValue());
        out.put("step_ms", TrainBench.round(((Number) printed.get("step_s")).doubleValue() * 1000, 1));
        out.put("peak_rss_mb", Math.round(result.peakRssMb()));
        out.put("loss_first", printed.get("loss_first"));
        out.put("loss_last", printed.get("loss_last"));
        return out;
    }

    private static String lastLine(String stdout) {
        String[] lines = stdout.strip().split("\n");
        return lines[lines.length - 1];
    }
}
