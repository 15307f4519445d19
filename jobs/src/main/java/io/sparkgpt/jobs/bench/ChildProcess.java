package io.sparkgpt.jobs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a benchmark contender in its own process (a PyTorch script, or a JVM with another thread
 * count) and records its peak resident memory, so that each contender's memory is its own.
 */
final class ChildProcess {
    /** How often the child's VmHWM is read; the high-water mark only grows, so polling misses little. */
    private static final long POLL_MS = 50;

    /** What a finished child left: its exit status, everything it printed on stdout, its peak RSS. */
    record Result(int exitCode, String stdout, double peakRssMb) {
    }

    private ChildProcess() {
    }

    /**
     * Runs {@code command} with {@code env} added to this process's environment; stderr goes to
     * ours (the child's logs stay visible), stdout is captured through a file (no pipe to drain
     * while polling).
     */
    static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path stdout = Files.createTempFile("sparkgpt-bench", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            builder.environment().putAll(env);
            Process process = builder.start();
            Path status = Path.of("/proc", Long.toString(process.pid()), "status");
            double peakMb = 0;
            while (!process.waitFor(POLL_MS, TimeUnit.MILLISECONDS)) {
                peakMb = Math.max(peakMb, peakRssMb(status));
            }
            return new Result(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8), peakMb);
        } finally {
            Files.deleteIfExists(stdout);
        }
    }

    /** Peak RSS of this JVM so far (VmHWM), in MB. */
    static double ownPeakRssMb() {
        return peakRssMb(Path.of("/proc/self/status"));
    }

    /** VmHWM of a /proc/PID/status file in MB; 0 once the process is gone (or on a system without /proc). */
    static double peakRssMb(Path status) {
        List<String> lines;
        try {
            lines = Files.readAllLines(status, StandardCharsets.US_ASCII);
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
        for (String line : lines) {
            if (line.startsWith("VmHWM:")) {
                // "VmHWM:   123456 kB"
                String kb = line.substring("VmHWM:".length()).replace("kB", "").trim();
                return Long.parseLong(kb) / 1024.0;
            }
        }
        return 0;
    }
}
