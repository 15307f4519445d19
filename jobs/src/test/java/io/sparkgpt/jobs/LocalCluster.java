package io.sparkgpt.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster for integration tests, driven through scripts/local-cluster:
 * a master and workers in their own JVMs on 127.0.0.1, with authentication on. Ports differ from
 * the script's defaults so a user's own cluster is left alone.
 */
public final class LocalCluster implements AutoCloseable {
    /** The project's root (tests run in jobs/). */
    public static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final int MASTER_PORT = 17077;
    private final Path state;

    private LocalCluster(Path state) {
        this.state = state;
    }

    public static LocalCluster start(Path state, int workers) throws IOException, InterruptedException {
        LocalCluster cluster = new LocalCluster(state);
        Process p = cluster.script(List.of("start", "--workers", Integer.toString(workers),
                "--worker-memory", "2g"), state.resolve("start.log"));
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("local cluster did not start: " + Files.readString(state.resolve("start.log")));
        }
        return cluster;
    }

    /** Submits a sparkgpt command to the cluster (SparkSubmit, client mode); returns the process. */
    public Process submit(Path log, String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of("submit", "--executor-memory", "1g"));
        args.addAll(List.of(command));
        return script(args, log);
    }

    /** Waits for a submission (at most 10 minutes) and fails the test, showing its log, unless it exited 0. */
    public static void awaitSuccess(Process submission, Path log) throws IOException, InterruptedException {
        assertTrue(submission.waitFor(600, TimeUnit.SECONDS), "finished in time: " + log);
        assertEquals(0, submission.exitValue(), Files.readString(log));
    }

    /** The master's URL (authentication on: only submissions with the cluster's secret are accepted). */
    public String masterUrl() {
        return "spark://127.0.0.1:" + MASTER_PORT;
    }

    /** Process ids of the worker JVMs, in order. */
    public List<Long> workerPids() throws IOException {
        List<Long> pids = new ArrayList<>();
        for (int i = 1; Files.exists(state.resolve("worker-" + i + ".pid")); i++) {
            pids.add(Long.parseLong(Files.readString(state.resolve("worker-" + i + ".pid")).trim()));
        }
        return pids;
    }

    private Process script(List<String> args, Path log) throws IOException {
        return script(state, Map.of("SPARKGPT_MASTER_PORT", Integer.toString(MASTER_PORT),
                "SPARKGPT_MASTER_UI_PORT", "18080"), args, log);
    }

    /** Runs scripts/local-cluster on the cluster kept in {@code state}, its output to {@code log}. */
    static Process script(Path state, Map<String, String> env, List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("scripts/local-cluster").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARKGPT_CLUSTER_DIR", state.toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        script(List.of("stop"), state.resolve("stop.log")).waitFor(60, TimeUnit.SECONDS);
    }
}
